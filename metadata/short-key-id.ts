// How a key ID is shown to people. A module of its own so that the CLIs can show key IDs without
// loading canonical JSON (keys.ts) on their start-up path.

/** Short form shown to people (8 hex digits), never anything else of a key. */
export function shortKeyId(keyid: string): string {
  return keyid.slice(0, 8);
}
