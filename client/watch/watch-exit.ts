// The exit codes of `tufpip watch run` / `compare` (docs/watch.md): 0 no alarm, 1 alarms,
// 2 usage or verification errors (the index could not be verified: refused update, bad history).
import { TufpipError, type ErrorCode } from '../../metadata/errors.js';

export class WatchExit extends TufpipError {
  readonly exitCode: 1 | 2;
  constructor(exitCode: 1 | 2, message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? (exitCode === 2 ? 'VERIFY_FAILED' : 'REFUSED'), message, options);
    this.exitCode = exitCode;
  }
}
