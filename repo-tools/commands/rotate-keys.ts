// `tufpip-repo release rotate-keys`: PEP 480 maintainers moving a project to new keys without
// alarming installers' lockfiles. Writes the next key transition of the project
// (metadata/key-transition.ts) and signs it with the maintainer's key through the Signer; each
// further old or new key holder adds a signature to the same file (the signed content never
// changes). It is complete when a threshold of the old keys AND a threshold of the new keys signed.
import fsp from 'node:fs/promises';
import { TufpipError } from '../../metadata/errors.js';
import { buildTransition, checkTransition, parseTransition, transitionBytes, transitionHash, type KeySet, type KeyTransition, type TransitionCheck } from '../../metadata/key-transition.js';
import { keyIdOf, shortKeyId } from '../../metadata/keys.js';
import { normalizeProject } from '../../metadata/pep503.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { loadSigner, passphraseFromEnv } from '../keys/signer.js';
import { readPublicKeyFile } from '../keys/public-key-file.js';
import { checkSignatures } from '../../metadata/threshold.js';

export interface RotateKeysOptions {
  project?: string;
  key: string;
  passphraseEnv?: string;
  /** The transition file: written when absent (with the options below), else signed. */
  out: string;
  /** The project's previous transition (its new keys are this one's old keys). */
  previous?: string;
  /** The current maintainer public keys and threshold (first transition). */
  oldKeys?: string[];
  oldThreshold?: number;
  newKeys?: string[];
  newThreshold?: number;
}

export interface RotateKeysStatus {
  file: string;
  project: string;
  sequence: number;
  old: { signed: number; threshold: number };
  new: { signed: number; threshold: number };
  complete: boolean;
}

async function readTransition(file: string, flag: string): Promise<KeyTransition> {
  const text = await fsp.readFile(file, 'utf8').catch((err: unknown) => {
    throw new TufpipError('NOT_FOUND', `${flag} ${file}: cannot read it`, { cause: err });
  });
  try {
    return parseTransition(text);
  } catch (err) {
    throw new TufpipError('BAD_INPUT', `${flag} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function keySet(files: string[] | undefined, threshold: number | undefined, flag: string): Promise<KeySet> {
  if (!files?.length) throw new TufpipError('USAGE', `give ${flag} (public key files, repeatable)`);
  const keys: KeySet['keys'] = {};
  for (const f of files) {
    const k = await readPublicKeyFile(f, flag);
    keys[keyIdOf(k)] = k;
  }
  const t = threshold ?? 1;
  if (!Number.isInteger(t) || t < 1 || t > Object.keys(keys).length) throw new TufpipError('USAGE', `${flag}: the threshold must be 1 to ${Object.keys(keys).length}`);
  return { keys, threshold: t };
}

export function statusOf(file: string, t: KeyTransition, c: TransitionCheck): RotateKeysStatus {
  const count = (r?: { signedBy: string[] }) => new Set(r?.signedBy ?? []).size;
  return {
    file,
    project: t.signed.project,
    sequence: t.signed.sequence,
    old: { signed: count(c.old), threshold: t.signed.old.threshold },
    new: { signed: count(c.new), threshold: t.signed.new.threshold },
    complete: c.ok,
  };
}

/** Creates (when `out` does not exist) or co-signs the transition, and reports its signatures. */
export async function rotateKeys(o: RotateKeysOptions): Promise<RotateKeysStatus> {
  const signer = await loadSigner(o.key, { passphrase: passphraseFromEnv(o.passphraseEnv) });
  const exists = await fsp.stat(o.out).then(() => true, () => false);
  let t: KeyTransition;
  if (exists) {
    if (o.previous || o.oldKeys?.length || o.newKeys?.length || o.oldThreshold !== undefined || o.newThreshold !== undefined) {
      throw new TufpipError('USAGE', `${o.out} exists: to add your signature give only --out and --key (its signed content never changes)`);
    }
    t = await readTransition(o.out, '--out');
    if (o.project && normalizeProject(o.project) !== t.signed.project) throw new TufpipError('USAGE', `${o.out} is a transition of ${t.signed.project}, not ${normalizeProject(o.project)}`);
    // Signatures already there must still verify: the content must not have changed since.
    const bytes = transitionBytes(t.signed);
    const all = { ...t.signed.old.keys, ...t.signed.new.keys };
    const bad = checkSignatures(bytes, t.signatures, all).invalid;
    if (bad.length) throw new TufpipError('REFUSED', `${o.out}: signature of ${bad.map(shortKeyId).join(', ')} does not verify: the transition was changed after it was signed`);
  } else {
    if (!o.project) throw new TufpipError('USAGE', 'rotate-keys needs --project for a new transition');
    const project = normalizeProject(o.project);
    const prev = o.previous ? await readTransition(o.previous, '--previous') : undefined;
    if (prev && prev.signed.project !== project) throw new TufpipError('USAGE', `--previous ${o.previous} is a transition of ${prev.signed.project}, not ${project}`);
    if (prev && !checkTransition(prev, project).ok) throw new TufpipError('REFUSED', `--previous ${o.previous}: ${checkTransition(prev, project).reason}`);
    if (prev && o.oldKeys?.length) throw new TufpipError('USAGE', '--previous gives the old keys (its new keys): do not give --old-key too');
    const old = prev ? prev.signed.new : await keySet(o.oldKeys, o.oldThreshold, '--old-key');
    const neu = await keySet(o.newKeys, o.newThreshold, '--new-key');
    t = buildTransition({ project, sequence: prev ? prev.signed.sequence + 1 : 1, previous: prev ? transitionHash(prev.signed) : null, old, new: neu });
  }
  const { old, new: neu } = t.signed;
  if (!old.keys[signer.keyid] && !neu.keys[signer.keyid]) {
    throw new TufpipError('BAD_KEY', `your key ${shortKeyId(signer.keyid)} is neither an old key (${Object.keys(old.keys).map(shortKeyId).join(', ')}) nor a new key (${Object.keys(neu.keys).map(shortKeyId).join(', ')}) of this transition`);
  }
  const sig = await signer.sign(transitionBytes(t.signed));
  t.signatures = [...t.signatures.filter((s) => s.keyid !== signer.keyid), { keyid: signer.keyid, sig }];
  await writeFileAtomic(o.out, JSON.stringify(t, null, 1) + '\n');
  return statusOf(o.out, t, checkTransition(t, t.signed.project));
}
