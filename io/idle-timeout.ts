// The download idle timeout of the `tufpip` commands (TUF "slow retrieval" attack): how long a
// download may go without receiving a byte before it is abandoned (io/http-transport.ts). Default
// 30 s (DEFAULT_IDLE_TIMEOUT_MS); `$TUFPIP_IDLE_TIMEOUT_MS` overrides it for
// fetch, install, proxy and tuf (whose --idle-timeout flag wins), e.g. for a slow link, or for
// tests that mount a slow-retrieval attack without waiting 30 s. The environment is passed in.
import { TufpipError } from '../metadata/errors.js';

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export const IDLE_TIMEOUT_ENV = 'TUFPIP_IDLE_TIMEOUT_MS';

/** Milliseconds from $TUFPIP_IDLE_TIMEOUT_MS, or undefined (the default applies) when unset. */
export function idleTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[IDLE_TIMEOUT_ENV];
  if (raw === undefined || raw === '') return undefined;
  // A typo must not silently disable the slow-retrieval protection: whole positive milliseconds only.
  if (!/^[1-9]\d{0,8}$/.test(raw.trim())) {
    throw new TufpipError('USAGE', `${IDLE_TIMEOUT_ENV} must be a whole number of milliseconds from 1 to 999999999, got ${JSON.stringify(raw)}`);
  }
  return Number(raw.trim());
}
