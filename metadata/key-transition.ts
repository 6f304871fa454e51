// Key transitions of a developer-signed project (PEP 480 maintainers rotating their keys): a
// document saying "project P's keys move from OLD (keys, threshold) to NEW (keys, threshold)",
// signed by a threshold of the OLD keys AND a threshold of the NEW keys, over the canonical JSON
// of its signed part (the TUF envelope convention). Transitions are numbered 1, 2, ... and each
// names the sha256 of the canonical signed part of the one before, so they chain A -> B -> C.
// Published as the TUF target `packages/<p>/tufpip-key-transition-<n>.json`: a `.json` name is
// never a distribution filename (PEP 427 `.whl`, PEP 625 `.tar.gz`; pip finds nothing else), and
// one path segment without a leading dot, so the project's `packages/<p>/*` delegation covers it
// (TUF path patterns match segment by segment; tuf-js's minimatch `*` skips dot files) and TUF
// protects it like the project's files.
//
// An installer whose lock pins OLD accepts NEW (change kind `rotation`) only when a chain of
// valid transitions leads from the pinned key set to the one now signing. Signatures are counted
// by metadata/threshold.ts, the one threshold counter. Pure: no I/O.
import { canonicalize } from './canonical.js';
import { sha256Hex } from './hash.js';
import { keyIdOf, type PublicKeyJson } from './keys.js';
import { checkThreshold, type KeyJson, type SignatureEntry, type ThresholdReport } from './threshold.js';

export const KEY_TRANSITION_TYPE = 'tufpip-key-transition';
export const TRANSITION_PREFIX = 'tufpip-key-transition-';

/** A key set and how many of it must sign (TUF key objects by key ID). */
export interface KeySet {
  keys: Record<string, KeyJson>;
  threshold: number;
}

export interface KeyTransitionSigned {
  _type: typeof KEY_TRANSITION_TYPE;
  /** PEP 503-normalised project name. */
  project: string;
  /** 1 for the project's first transition, then +1. */
  sequence: number;
  /** sha256 (hex) of the canonical signed part of transition `sequence - 1`; null for the first. */
  previous: string | null;
  old: KeySet;
  new: KeySet;
}

export interface KeyTransition {
  signed: KeyTransitionSigned;
  signatures: SignatureEntry[];
}

/** The TUF target path of a project's transition number `sequence`. */
export function transitionPath(project: string, sequence: number): string {
  return `packages/${project}/${TRANSITION_PREFIX}${sequence}.json`;
}

/** True for a transition's target path (the only non-distribution file under packages/<p>/). */
export function isTransitionPath(targetPath: string): boolean {
  return /^packages\/[^/]+\/tufpip-key-transition-[1-9][0-9]*\.json$/.test(targetPath);
}

/** Canonical bytes that every signature of a transition covers. */
export function transitionBytes(signed: KeyTransitionSigned): Uint8Array {
  return Buffer.from(canonicalize(signed), 'utf8');
}

/** The hash the next transition names as `previous`. */
export function transitionHash(signed: KeyTransitionSigned): string {
  return sha256Hex(canonicalize(signed));
}

export function buildTransition(o: { project: string; sequence: number; previous: string | null; old: KeySet; new: KeySet }): KeyTransition {
  return { signed: { _type: KEY_TRANSITION_TYPE, project: o.project, sequence: o.sequence, previous: o.previous, old: o.old, new: o.new }, signatures: [] };
}

/** Parses JSON text into a transition, checking its shape; throws Error naming what is wrong. */
export function parseTransition(text: string): KeyTransition {
  let v: KeyTransition;
  try {
    v = JSON.parse(text) as KeyTransition;
  } catch {
    throw new Error('not valid JSON');
  }
  const s = v?.signed;
  const keySet = (k: unknown) => {
    const ks = k as KeySet | undefined;
    return !!ks && typeof ks.keys === 'object' && ks.keys !== null && Number.isInteger(ks.threshold);
  };
  if (!s || s._type !== KEY_TRANSITION_TYPE || typeof s.project !== 'string' || !Number.isInteger(s.sequence) || s.sequence < 1) {
    throw new Error(`not a ${KEY_TRANSITION_TYPE} document`);
  }
  if (!(s.previous === null || (typeof s.previous === 'string' && /^[0-9a-f]{64}$/.test(s.previous))) || !keySet(s.old) || !keySet(s.new) || !Array.isArray(v.signatures)) {
    throw new Error(`malformed ${KEY_TRANSITION_TYPE} document`);
  }
  return v;
}

const keyIdsOf = (ks: KeySet): string[] => Object.keys(ks.keys).sort();

/** Every key sits under its own TUF key ID (else a signature could count for another key). */
function keyIdsHold(ks: KeySet): boolean {
  return Object.entries(ks.keys).every(([id, k]) => keyIdOf(k as PublicKeyJson) === id);
}

export interface TransitionCheck {
  ok: boolean;
  /** Why the transition does not count (empty when ok). */
  reason: string;
  old?: ThresholdReport;
  new?: ThresholdReport;
}

/**
 * A transition counts when it is for `project`, its key IDs are the TUF IDs of its keys, and it is
 * signed by a threshold of its old keys AND a threshold of its new keys (TUF spec 5.3.4 applied to
 * both sides, as for a new root).
 */
export function checkTransition(t: KeyTransition, project: string): TransitionCheck {
  const s = t.signed;
  if (s.project !== project) return { ok: false, reason: `transition ${s.sequence} is for project ${s.project}, not ${project}` };
  if (!keyIdsHold(s.old) || !keyIdsHold(s.new)) return { ok: false, reason: `transition ${s.sequence}: a key is not listed under its own key ID` };
  const bytes = transitionBytes(s);
  const old = checkThreshold(bytes, t.signatures, s.old.keys, { keyids: keyIdsOf(s.old), threshold: s.old.threshold });
  const neu = checkThreshold(bytes, t.signatures, s.new.keys, { keyids: keyIdsOf(s.new), threshold: s.new.threshold });
  const count = (r: ThresholdReport) => `${new Set(r.signedBy).size}/${r.threshold}`;
  if (!old.met) return { ok: false, reason: `transition ${s.sequence} is signed by ${count(old)} of the old keys`, old, new: neu };
  if (!neu.met) return { ok: false, reason: `transition ${s.sequence} is signed by ${count(neu)} of the new keys`, old, new: neu };
  return { ok: true, reason: '', old, new: neu };
}

/** A pinned or current key set by ID (as signer pins hold them). */
export interface KeyIdSet {
  keyids: readonly string[];
  threshold: number;
}

const sameSet = (a: KeyIdSet, b: KeyIdSet): boolean => {
  const x = [...new Set(a.keyids)].sort();
  const y = [...new Set(b.keyids)].sort();
  return a.threshold === b.threshold && x.length === y.length && x.every((k, i) => k === y[i]);
};

const idSetOf = (ks: KeySet): KeyIdSet => ({ keyids: keyIdsOf(ks), threshold: ks.threshold });

export interface ChainResult {
  /** True when valid transitions lead from `from` to `to`. */
  covered: boolean;
  /** Sequence numbers of the transitions followed, in order. */
  followed: number[];
  /** Why the chain stops short (empty when covered). */
  reason: string;
}

/**
 * Follows a project's transitions (in sequence order, 1..n, as fetched) from the pinned key set
 * `from` to the current one `to`. Each transition must count (checkTransition), carry the next
 * sequence number and name the previous one's hash, and start where the previous one ended; the
 * walk starts at the transition whose old key set is `from` (a lock made after some rotations).
 * The first transition that does not hold ends the walk: later ones rest on it.
 */
export function followTransitions(project: string, transitions: readonly KeyTransition[], from: KeyIdSet, to: KeyIdSet): ChainResult {
  let state: KeyIdSet = from;
  const followed: number[] = [];
  let prev: KeyTransition | undefined;
  let why = '';
  for (const [i, t] of transitions.entries()) {
    const s = t.signed;
    if (s.sequence !== i + 1) {
      why = `transition ${i + 1} carries sequence number ${s.sequence}`;
      break;
    }
    if (s.previous !== (prev ? transitionHash(prev.signed) : null)) {
      why = `transition ${s.sequence} does not name transition ${s.sequence - 1} as its predecessor`;
      break;
    }
    if (prev && !sameSet(idSetOf(s.old), idSetOf(prev.signed.new))) {
      why = `transition ${s.sequence} does not start from the keys transition ${s.sequence - 1} moved to`;
      break;
    }
    const c = checkTransition(t, project);
    if (!c.ok) {
      why = c.reason;
      break;
    }
    if (sameSet(idSetOf(s.old), state)) {
      state = idSetOf(s.new);
      followed.push(s.sequence);
      // The keys now signing may be an intermediate step (later transitions not yet in force).
      if (sameSet(state, to)) return { covered: true, followed, reason: '' };
    }
    prev = t;
  }
  if (why) return { covered: false, followed, reason: why };
  if (!transitions.length) return { covered: false, followed, reason: 'the project publishes no key transition' };
  return { covered: false, followed, reason: followed.length ? 'the transitions do not lead to the keys now signing' : 'no transition starts from the pinned keys' };
}
