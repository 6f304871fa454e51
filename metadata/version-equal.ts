// PEP 440 version equality ("Normalization", and "Version matching": release segments compare
// with trailing zeros padded, so 1.0 == 1.0.0), for matching `--version V` against the versions
// in distribution filenames. Pure. A version that is not PEP 440 compares by its lower-cased text.

// PEP 440 Appendix B, VERSION_PATTERN (case-insensitive), with `_` allowed where wheel names
// write `-` (PEP 427 escapes it).
const PEP440 =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:(?:-(\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\d+)?))?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

const PRE: Record<string, string> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

/** A comparison key: equal keys are equal PEP 440 versions. */
export function versionKey(version: string): string {
  const v = version.trim();
  const m = PEP440.exec(v);
  if (!m) return `?${v.toLowerCase()}`;
  const [, epoch, release, preL, preN, postN1, postL, postN2, devL, devN, local] = m;
  const parts = release.split('.').map((x) => BigInt(x).toString());
  while (parts.length > 1 && parts[parts.length - 1] === '0') parts.pop();
  let key = `${BigInt(epoch ?? '0')}!${parts.join('.')}`;
  if (preL) key += `${PRE[preL.toLowerCase()]}${BigInt(preN ?? '0')}`;
  if (postN1 !== undefined || postL) key += `.post${BigInt(postN1 ?? postN2 ?? '0')}`;
  if (devL) key += `.dev${BigInt(devN ?? '0')}`;
  if (local) key += `+${local.toLowerCase().split(/[-_.]/).map((s) => (/^\d+$/.test(s) ? BigInt(s).toString() : s)).join('.')}`;
  return key;
}

export function sameVersion440(a: string, b: string): boolean {
  return versionKey(a) === versionKey(b);
}
