// A faster, byte-identical drop-in for @tufjs/canonical-json 2.0.0's `canonicalize`
// (node_modules/@tufjs/canonical-json/lib/index.js): OLPC canonical JSON
// (http://wiki.laptop.org/go/Canonical_JSON) as the TUF spec uses it for signing.
//
// The rules are the reference's, case for case and in the same order:
//   string   -> quoted, escaping only `\` and `"` (no other character is escaped)
//   boolean  -> true / false
//   integer  -> JSON.stringify(n) (so -0 -> "0", 1e21 -> "1e+21")
//   null     -> null
//   array    -> elements in order; holes are skipped, as Array.prototype.forEach skips them
//   object   -> own enumerable string keys, sorted with the default Array.prototype.sort
//   anything else (floats, NaN, undefined, functions, symbols, bigints) ->
//               TypeError('cannot encode ' + value.toString()), evaluated exactly like the
//               reference, so `undefined` fails with the same "Cannot read properties" TypeError.
// What differs is only the cost: output is built by string concatenation rather than an array
// per value joined at the end, and strings without `\` or `"` skip the two regex replaces.

/** Canonical JSON text of `value`; identical output and errors to @tufjs/canonical-json. */
export function fastCanonicalize(value: unknown): string {
  if (typeof value === 'string') {
    return canonicalString(value);
  } else if (typeof value === 'boolean') {
    return value ? 'true' : 'false';
  } else if (Number.isInteger(value)) {
    return JSON.stringify(value);
  } else if (value === null) {
    return 'null';
  } else if (Array.isArray(value)) {
    return canonicalArray(value);
  } else if (typeof value === 'object') {
    return canonicalObject(value as Record<string, unknown>);
  }
  // Same expression as the reference: for undefined this is a property read that throws.
  throw new TypeError('cannot encode ' + (value as { toString(): string }).toString());
}

function canonicalArray(array: readonly unknown[]): string {
  const length = array.length;
  let out = '[';
  let first = true;
  for (let i = 0; i < length; i++) {
    if (!(i in array)) continue; // forEach semantics: holes are not visited
    if (!first) out += ',';
    first = false;
    out += fastCanonicalize(array[i]);
  }
  return out + ']';
}

function canonicalObject(object: Record<string, unknown>): string {
  const keys = Object.keys(object).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    const key = keys[i];
    out += canonicalString(key) + ':' + fastCanonicalize(object[key]);
  }
  return out + '}';
}

/** The reference's canonicalizeString: escape `\` then `"`, wrap in double quotes. */
function canonicalString(s: string): string {
  if (s.indexOf('\\') === -1 && s.indexOf('"') === -1) return '"' + s + '"';
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}
