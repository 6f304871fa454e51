// The one place that reaches into tuf-js 5.0.1's Updater beyond its public API (typed here so a
// tuf-js upgrade breaks at compile time, in one file). Used to enumerate roles for `verify` and to
// close the gaps listed in DESIGN.md.
import type { Updater } from 'tuf-js';
import type { Metadata, Root, Snapshot, Targets, Timestamp } from '@tufjs/models';

export interface TrustedSetInternals {
  root: Metadata<Root>;
  timestamp?: Metadata<Timestamp>;
  snapshot?: Metadata<Snapshot>;
  targets?: Metadata<Targets>;
  getRole(name: string): Metadata<Targets> | undefined;
}

export interface UpdaterInternals {
  trustedSet: TrustedSetInternals & { trustedSet: Record<string, Metadata<Targets> | undefined> };
  loadTargets(role: string, parentRole: string): Promise<Metadata<Targets> | undefined>;
}

export function internals(u: Updater): UpdaterInternals {
  return u as unknown as UpdaterInternals;
}
