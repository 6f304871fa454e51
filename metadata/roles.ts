// Role names and the role graph (DESIGN.md "Role graph and defaults"). Every role name in the
// project comes from here: never build one inline.

export const ROOT = 'root';
export const TARGETS = 'targets';
export const SNAPSHOT = 'snapshot';
export const TIMESTAMP = 'timestamp';
export const CLAIMED = 'claimed';
export const RECENTLY_CLAIMED = 'recently-claimed';
export const BINS = 'bins';
/** TAP 15 `name_prefix` of the succinct hash-bin delegation. */
export const BIN_PREFIX = 'bin';
export const PROJECT_PREFIX = 'project-';

export const TOP_LEVEL_ROLES = [ROOT, TARGETS, SNAPSHOT, TIMESTAMP] as const;

/** The roles the `targets` role delegates to, in trust order (DESIGN.md). */
export const TARGETS_DELEGATION_ORDER = [CLAIMED, RECENTLY_CLAIMED, BINS] as const;

/** Key slots a repository holds. `online` signs timestamp, snapshot, recently-claimed, bin-*. */
export type KeySlot = 'root' | 'targets' | 'claimed' | 'bins' | 'online';
export const OFFLINE_SLOTS: readonly KeySlot[] = ['root', 'targets', 'claimed', 'bins'];

/** Which key slot signs a role. */
export function slotForRole(role: string): KeySlot {
  if (role === ROOT) return 'root';
  if (role === TARGETS) return 'targets';
  if (role === CLAIMED) return 'claimed';
  if (role === BINS) return 'bins';
  if (role === SNAPSHOT || role === TIMESTAMP || role === RECENTLY_CLAIMED || isBinRole(role)) return 'online';
  throw new Error(`role ${role} is not signed by a repository key`);
}

export function isOnlineRole(role: string): boolean {
  return role === SNAPSHOT || role === TIMESTAMP || role === RECENTLY_CLAIMED || isBinRole(role);
}

/** TAP 15: bit length for a number of bins (a power of two). */
export function bitLengthFor(binCount: number): number {
  return Math.log2(binCount);
}

/** TAP 15: suffix length is the hex length of `numberOfBins - 1`. */
export function binSuffixLength(binCount: number): number {
  return (binCount - 1).toString(16).length;
}

/** TAP 15 bin role name: `bin-` + zero-padded hex index. */
export function binName(index: number, binCount: number): string {
  return `${BIN_PREFIX}-${index.toString(16).padStart(binSuffixLength(binCount), '0')}`;
}

/**
 * Source of a pattern matching every targets-type role name of the role graph (DESIGN.md): top-level
 * targets, claimed, recently-claimed, bins, `bin-<hex>`, `project-<name>` and its release roles
 * `project-<name>--<version>` (metadata/releases.ts). No quote, backslash or brace can match.
 */
export const TARGETS_ROLE_PATTERN = `(?:${TARGETS}|${CLAIMED}|${RECENTLY_CLAIMED}|${BINS}|bin-[0-9a-f]+|project-[a-z0-9][a-z0-9-]*(?:--[A-Za-z0-9._+!-]+)?)`;
const TARGETS_ROLE = new RegExp(`^${TARGETS_ROLE_PATTERN}$`);

/** A role name a snapshot may list. */
export function isTargetsRoleName(role: string): boolean {
  return TARGETS_ROLE.test(role);
}

export function isBinRole(role: string): boolean {
  return /^bin-[0-9a-f]+$/.test(role);
}

export function binIndexOf(role: string): number {
  return parseInt(role.slice(BIN_PREFIX.length + 1), 16);
}

/** PEP 480: the developer role of a project (name already PEP 503-normalised). */
export function projectRole(normalizedName: string): string {
  return `${PROJECT_PREFIX}${normalizedName}`;
}

export function isProjectRole(role: string): boolean {
  return role.startsWith(PROJECT_PREFIX);
}

/** Metadata file name of a role version (consistent snapshots, TUF spec 5.5.1 / 5.6.1). */
export function versionedFileName(role: string, version: number): string {
  return `${version}.${role}.json`;
}
