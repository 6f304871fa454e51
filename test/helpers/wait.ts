// Waiting for an event instead of sleeping: a condition becoming true (checked every few ms, with a
// deadline that only bounds a failure), the wall clock passing an instant (metadata expiry), a
// process having exited. A test never sleeps a fixed time and then asserts that something did not
// happen: it waits for the event that proves the state it asserts on.

/** Resolves once `cond()` is true; rejects naming `what` if it is still false after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves once the wall clock (Date.now(), what expiry checks read) is past `instantMs`. */
export async function untilClock(instantMs: number): Promise<void> {
  while (Date.now() <= instantMs) await new Promise((r) => setTimeout(r, Math.max(1, instantMs - Date.now() + 1)));
}

/** Whether process `pid` has exited within `timeoutMs`. */
export async function processGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  await until(() => !pidAlive(pid), `process ${pid} to exit`, timeoutMs).catch(() => undefined);
  return !pidAlive(pid);
}

/** Whether a process with this pid is still running. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
