// tuf-js 5.0.1's client (the TUF spec 5 client workflow: Updater) and the fetcher seam it
// downloads through, from the one floor allowed to import tuf-js (docs/architecture.md).
// Hardening of an Updater instance is tuf/updater-hardening.ts.
export { Updater, BaseFetcher } from 'tuf-js';
export type { TargetFile } from 'tuf-js';
