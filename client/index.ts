// The package's main entry (`import { IndexClient, ... } from 'tufpip'`): the client library.
// See docs/client-library.md for an example.
//
// Importing this entry installs tufpip's linear-time parsing in the @tufjs/models and
// @tufjs/canonical-json copies tufpip uses (tuf/linear-models.ts; docs/client-library.md "What
// importing tufpip changes"): same results, O(n) instead of O(n²) on large snapshots and roles.
// The other modules of the package change nothing when imported.
import { installLinearModels } from '../tuf/linear-models.js';

installLinearModels();

export type { Vouch, VerifiedTarget, RefusalKind, FetchOptions, OpenIndexOptions, DownloadOptions, IndexFetcher } from './lib/api.js';
export { IndexClient, type OpenMetadataDirOptions } from './lib/index-client.js';
export { ClientError, classifyTufError, redactUrl, type RefusalContext } from './errors.js';
export { TrustStore, type TrustedIndex, type TrustedIndexRecord, type TrustedIndexStatus } from './lib/trust-store.js';
export { checkRootBytes, type RootSummary } from './lib/root-check.js';
export { defaultDataDir } from './lib/data-dir.js';
export { parseIndexUrl, defaultIndexName, isLoopbackHost, verifyTransport, type IndexUrl } from './lib/index-url.js';
export { HttpFetcher, SlowRetrievalError, NetworkError, DEFAULT_IDLE_TIMEOUT_MS, type HttpFetcherOptions, type FetchRecord } from '../tuf/fetcher.js';
export { TufpipError, exitCodeFor, describeError, type ErrorCode } from '../metadata/errors.js';
