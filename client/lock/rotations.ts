// Key rotations in a lock review: when a developer-signed project's pinned key set (or threshold)
// is no longer the one signing, the project's key transitions decide whether the maintainers
// rotated their keys (change kind `rotation`) or someone else signs now (the alarm stays, naming
// why no transition covered it). The transitions are TUF targets fetched and verified by tuf-js's
// Updater through IndexClient; their own signatures are counted by metadata/threshold.ts
// (metadata/key-transition.ts). The chain is followed in metadata/key-transition.ts.
import { followTransitions, parseTransition, transitionPath, type KeyTransition } from '../../metadata/key-transition.js';
import type { PinChange, PinDiff } from '../../metadata/signer-pin.js';
import type { IndexClient } from '../lib/index-client.js';
import { openTrustedIndex, type IndexChoice } from '../commands/open-index.js';

/** More transitions than any project will ever publish: the walk stops there. */
const MAX_TRANSITIONS = 1000;

/** A change transitions may cover: a developer-signed project whose key set or threshold moved. */
const rotatable = (c: PinChange): boolean =>
  (c.kind === 'substitution' || c.kind === 'threshold-change') && c.from?.vouchedBy === 'developer' && c.to?.vouchedBy === 'developer';

/** Transitions 1, 2, ... of `project`, each verified by TUF, until one is not on the index. */
export async function fetchTransitions(client: IndexClient, project: string): Promise<{ transitions: KeyTransition[]; problem?: string }> {
  const transitions: KeyTransition[] = [];
  for (let n = 1; n <= MAX_TRANSITIONS; n++) {
    let bytes: Buffer;
    try {
      ({ bytes } = await client.fetchBytes(transitionPath(project, n)));
    } catch (err) {
      const kind = (err as { kind?: string }).kind;
      // Not listed by the index's signed metadata: the project has no transition `n`.
      if (kind === 'not-signed' || kind === 'missing-developer-signature') break;
      throw err;
    }
    try {
      transitions.push(parseTransition(bytes.toString('utf8')));
    } catch (err) {
      return { transitions, problem: `transition ${n}: ${(err as Error).message}` };
    }
  }
  return { transitions };
}

/**
 * Returns the diff with every change that valid transitions cover turned into a `rotation`, and
 * every other rotatable change explained (`detail`: why the transitions did not count).
 */
export async function reviewRotations(diff: PinDiff, choice: IndexChoice): Promise<PinDiff> {
  if (!diff.changes.some(rotatable)) return diff;
  const client = await openTrustedIndex(choice);
  try {
    const changes: PinChange[] = [];
    for (const c of diff.changes) {
      if (!rotatable(c)) {
        changes.push(c);
        continue;
      }
      const { transitions, problem } = await fetchTransitions(client, c.name);
      const r = followTransitions(c.name, transitions, c.from!, c.to!);
      if (r.covered) changes.push({ ...c, kind: 'rotation', detail: `key transition${r.followed.length === 1 ? '' : 's'} ${r.followed.join(' -> ')}` });
      else changes.push({ ...c, detail: `no key transition covers it: ${problem && !r.followed.length ? problem : r.reason}` });
    }
    return { ...diff, changes };
  } finally {
    await client.close();
  }
}
