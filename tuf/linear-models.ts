// Linear-time map building for @tufjs/models 4.1.1 (the copy tuf-js 5.0.1 uses).
//
// Why: upstream builds every keyed map as
//     Object.entries(x).reduce((acc, [k, v]) => ({ ...acc, [k]: f(v) }), {})
// which copies the accumulator at every step, O(n²): a tuf-js refresh() against a
// 16,385-entry snapshot spends ~92 s in it, a 10,000-target role ~25 s.
//
// What it replaces, on the one shared CommonJS copy of the classes
// (node_modules/@tufjs/models/dist/*.js; the quadratic helpers are module-private, so the
// public methods that call them are re-implemented, statement for statement):
//   snapshot.js     Snapshot.fromJSON, Snapshot.prototype.toJSON        (metaFromJSON, metaToJSON)
//   targets.js      Targets.fromJSON, Targets.prototype.toJSON          (targetsFromJSON, targetsToJSON)
//   delegations.js  Delegations.fromJSON, Delegations.prototype.toJSON  (keysFromJSON, rolesFromJSON, keysToJSON)
//   root.js         Root.fromJSON, Root.prototype.toJSON                (keysFromJSON, rolesFromJSON,
//                                                                        keysToJSON, rolesToJSON)
//   @tufjs/canonical-json's exported `canonicalize` -> fastCanonicalize (metadata/canonical-fast.ts), which
//   @tufjs/models looks up at call time for signing and signature verification; measured
//   faster on a 16,385-entry snapshot (bench/linear-models.bench.ts: ~2.8x).
// The replacements produce the same objects (classes, own properties and their order,
// unrecognizedFields, an own "__proto__" key where the spread would create one) and throw the
// same error classes with the same messages, with the checks in the original order
// (test/linear-models.test.ts compares them against the originals).
//   utils/key.js    getPublicKey -> memoised by (keyType, scheme, keyVal): upstream builds a new
//                   KeyObject (DER/PEM parse) for every signature check, which dominates
//                   verifying 16,384 bins signed by the same online key. Same inputs, same output.
//   role.js         DelegatedRole#isDelegatedPath -> delegated-path-match.ts (literal pattern parts
//                   compared directly, other parts compiled once; same results).
// Root's constructor default-roles reduce (4 fixed entries) and Metadata.fromJSON (already linear)
// are left alone.
//
// Importing this module changes nothing: the entry points call installLinearModels() (idempotent)
// before anything parses metadata: bin/tufpip.js, bin/tufpip-repo.js, the library entry
// client/index.ts (docs/client-library.md), the worker entries, the demo, bench and tests.
// `upstreamMethods` are the originals, captured when this module is evaluated (never patched by
// then, since only installLinearModels() patches).
// Delete this file (and the install calls) once upstream builds these maps linearly.
import { createRequire } from 'node:module';
import { Key, MetaFile, Root, Snapshot, TargetFile, Targets } from '@tufjs/models';
import type { Delegations as DelegationsType } from '@tufjs/models/dist/delegations.js';
import type {
  DelegatedRole as DelegatedRoleType,
  Role as RoleType,
  SuccinctRoles as SuccinctRolesType,
} from '@tufjs/models/dist/role.js';
import type { JSONObject, JSONValue } from '@tufjs/models/dist/utils/types.js';
import { fastCanonicalize } from '../metadata/canonical-fast.js';
import { installDelegatedPathMatch } from './delegated-path-match.js';

// The classes and helpers @tufjs/models does not export from its index, from the same
// (cached) CommonJS modules the index itself loads.
const require = createRequire(import.meta.url);
const { Signed } = require('@tufjs/models/dist/base.js') as typeof import('@tufjs/models/dist/base.js');
const { Delegations } = require('@tufjs/models/dist/delegations.js') as typeof import('@tufjs/models/dist/delegations.js');
const { DelegatedRole, Role, SuccinctRoles } = require('@tufjs/models/dist/role.js') as typeof import('@tufjs/models/dist/role.js');
const guard = require('@tufjs/models/dist/utils/guard.js') as typeof import('@tufjs/models/dist/utils/guard.js');
const canonicalJson = require('@tufjs/canonical-json') as { canonicalize: (object: unknown) => string };

const keyUtils = require('@tufjs/models/dist/utils/key.js') as { getPublicKey: (info: { keyType: string; scheme: string; keyVal: string }) => unknown };
const upstreamGetPublicKey = keyUtils.getPublicKey;
const publicKeyCache = new Map<string, unknown>();

/** getPublicKey with a bounded cache; the result is only ever read by crypto.verify. */
function memoisedGetPublicKey(info: { keyType: string; scheme: string; keyVal: string }): unknown {
  const id = `${info.keyType}\0${info.scheme}\0${info.keyVal}`;
  let key = publicKeyCache.get(id);
  if (key === undefined) {
    key = upstreamGetPublicKey(info); // throws for unsupported or malformed keys, uncached
    if (publicKeyCache.size >= 1024) publicKeyCache.clear();
    publicKeyCache.set(id, key);
  }
  return key;
}

type Fields = Record<string, JSONValue>;

let installed = false;

/**
 * The upstream methods as they were before any patch, in this order: Snapshot.fromJSON,
 * Snapshot#toJSON, Targets.fromJSON, Targets#toJSON, Delegations.fromJSON, Delegations#toJSON,
 * Root.fromJSON, Root#toJSON, canonicalize. The differential test and the benchmark compare
 * against these, whatever was imported first.
 */
export const upstreamMethods: readonly unknown[] = [
  Snapshot.fromJSON,
  Snapshot.prototype.toJSON,
  Targets.fromJSON,
  Targets.prototype.toJSON,
  Delegations.fromJSON,
  Delegations.prototype.toJSON,
  Root.fromJSON,
  Root.prototype.toJSON,
  canonicalJson.canonicalize,
];

/** The slots upstreamMethods lists, in its order (owner object, property name). */
export const LINEAR_SLOTS: ReadonlyArray<readonly [object, string]> = [
  [Snapshot, 'fromJSON'],
  [Snapshot.prototype, 'toJSON'],
  [Targets, 'fromJSON'],
  [Targets.prototype, 'toJSON'],
  [Delegations, 'fromJSON'],
  [Delegations.prototype, 'toJSON'],
  [Root, 'fromJSON'],
  [Root.prototype, 'toJSON'],
  [canonicalJson, 'canonicalize'],
];

/**
 * Runs `fn` with the upstream methods of upstreamMethods swapped back in (nested calls too:
 * Targets.fromJSON -> Delegations.fromJSON, toJSON -> canonicalize), then restores what was there.
 * For the differential test and the benchmark, which compare the patch with upstream.
 */
export function withUpstreamModels<T>(fn: () => T): T {
  const saved = LINEAR_SLOTS.map(([owner, name]) => Reflect.get(owner, name));
  LINEAR_SLOTS.forEach(([owner, name], i) => Reflect.set(owner, name, upstreamMethods[i]));
  try {
    return fn();
  } finally {
    LINEAR_SLOTS.forEach(([owner, name], i) => Reflect.set(owner, name, saved[i]));
  }
}

/** Replace the quadratic @tufjs/models methods (see the header) with linear ones. Idempotent. */
export function installLinearModels(): void {
  if (installed) return;
  Snapshot.fromJSON = snapshotFromJSON;
  Snapshot.prototype.toJSON = snapshotToJSON;
  Targets.fromJSON = targetsFromJSON;
  Targets.prototype.toJSON = targetsToJSON;
  Delegations.fromJSON = delegationsFromJSON;
  Delegations.prototype.toJSON = delegationsToJSON;
  Root.fromJSON = rootFromJSON;
  Root.prototype.toJSON = rootToJSON;
  canonicalJson.canonicalize = fastCanonicalize;
  keyUtils.getPublicKey = memoisedGetPublicKey;
  installDelegatedPathMatch();
  installed = true;
}

/** Whether installLinearModels() has run in this process (or worker thread). */
export function isLinearModelsInstalled(): boolean {
  return installed;
}

// --- shared helpers -------------------------------------------------------------------------

/**
 * `acc[key] = value` with the semantics of `{ ...acc, [key]: value }`: always an own, enumerable
 * data property. Plain assignment differs only for "__proto__", where it would hit the
 * Object.prototype setter and change the prototype instead of adding a key.
 * Reassigning an existing key keeps its position, as the spread does.
 */
function put<T>(acc: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(acc, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    acc[key] = value;
  }
}

/** Upstream's `Object.entries(x).reduce((acc, [k, v]) => ({ ...acc, [k]: f(v, k) }), {})`, in O(n). */
function mapEntries<V, R>(data: Record<string, V>, f: (value: V, key: string) => R): Record<string, R> {
  const acc: Record<string, R> = {};
  for (const [key, value] of Object.entries(data)) {
    put(acc, key, f(value, key));
  }
  return acc;
}

// The callbacks below keep upstream's parameter names: a missing toJSON then fails with the same
// message ("metadata.toJSON is not a function").

// --- snapshot.js ----------------------------------------------------------------------------

function snapshotToJSON(this: Snapshot): JSONObject {
  return {
    _type: this.type,
    meta: mapEntries(this.meta, (metadata) => metadata.toJSON()),
    spec_version: this.specVersion,
    version: this.version,
    expires: this.expires,
    ...this.unrecognizedFields,
  };
}

function snapshotFromJSON(data: JSONObject): Snapshot {
  const { unrecognizedFields, ...commonFields } = Signed.commonFieldsFromJSON(data);
  const { meta, ...rest } = unrecognizedFields as Fields;
  return new Snapshot({
    ...commonFields,
    meta: metaFromJSON(meta),
    unrecognizedFields: rest,
  });
}

function metaFromJSON(data: JSONValue | undefined): Record<string, MetaFile> | undefined {
  let meta: Record<string, MetaFile> | undefined;
  if (guard.isDefined(data)) {
    if (!guard.isObjectRecord(data)) {
      throw new TypeError('meta field is malformed');
    } else {
      meta = mapEntries(data, (metadata) => MetaFile.fromJSON(metadata));
    }
  }
  return meta;
}

// --- targets.js -----------------------------------------------------------------------------

function targetsToJSON(this: Targets): JSONObject {
  const json: JSONObject = {
    _type: this.type,
    spec_version: this.specVersion,
    version: this.version,
    expires: this.expires,
    targets: mapEntries(this.targets, (target) => target.toJSON()),
    ...this.unrecognizedFields,
  };
  if (this.delegations) {
    json.delegations = this.delegations.toJSON();
  }
  return json;
}

function targetsFromJSON(data: JSONObject): Targets {
  const { unrecognizedFields, ...commonFields } = Signed.commonFieldsFromJSON(data);
  const { targets, delegations, ...rest } = unrecognizedFields as Fields;
  return new Targets({
    ...commonFields,
    targets: targetFilesFromJSON(targets),
    delegations: targetsDelegationsFromJSON(delegations),
    unrecognizedFields: rest,
  });
}

function targetFilesFromJSON(data: JSONValue | undefined): Record<string, TargetFile> | undefined {
  let targets: Record<string, TargetFile> | undefined;
  if (guard.isDefined(data)) {
    if (!guard.isObjectRecord(data)) {
      throw new TypeError('targets must be an object');
    } else {
      targets = mapEntries(data, (target, path) => TargetFile.fromJSON(path, target));
    }
  }
  return targets;
}

/** targets.js delegationsFromJSON (already linear; here because Targets.fromJSON calls it). */
function targetsDelegationsFromJSON(data: JSONValue | undefined): DelegationsType | undefined {
  let delegations: DelegationsType | undefined;
  if (guard.isDefined(data)) {
    if (!guard.isObject(data)) {
      throw new TypeError('delegations must be an object');
    } else {
      delegations = Delegations.fromJSON(data);
    }
  }
  return delegations;
}

// --- delegations.js -------------------------------------------------------------------------

function delegationsToJSON(this: DelegationsType): JSONObject {
  const json: JSONObject = {
    keys: mapEntries(this.keys, (key) => key.toJSON()),
    ...this.unrecognizedFields,
  };
  if (this.roles) {
    json.roles = Object.values(this.roles).map((role) => role.toJSON());
  } else if (this.succinctRoles) {
    json.succinct_roles = this.succinctRoles.toJSON();
  }
  return json;
}

function delegationsFromJSON(data: JSONObject): DelegationsType {
  const { keys, roles, succinct_roles, ...unrecognizedFields } = data;
  let succinctRoles: SuccinctRolesType | undefined;
  if (guard.isObject(succinct_roles)) {
    succinctRoles = SuccinctRoles.fromJSON(succinct_roles);
  }
  return new Delegations({
    keys: delegatedKeysFromJSON(keys),
    roles: delegatedRolesFromJSON(roles),
    unrecognizedFields,
    succinctRoles,
  });
}

function delegatedKeysFromJSON(data: JSONValue | undefined): Record<string, Key> {
  if (!guard.isObjectRecord(data)) {
    throw new TypeError('keys is malformed');
  }
  return mapEntries(data, (keyData, keyID) => Key.fromJSON(keyID, keyData));
}

function delegatedRolesFromJSON(data: JSONValue | undefined): Record<string, DelegatedRoleType> | undefined {
  let roleMap: Record<string, DelegatedRoleType> | undefined;
  if (guard.isDefined(data)) {
    if (!guard.isObjectArray(data)) {
      throw new TypeError('roles is malformed');
    }
    const acc: Record<string, DelegatedRoleType> = {};
    // forEach, like upstream's reduce, skips holes; a repeated name keeps its first position
    // and takes the last value, as the spread does.
    data.forEach((role) => {
      const delegatedRole = DelegatedRole.fromJSON(role);
      put(acc, delegatedRole.name, delegatedRole);
    });
    roleMap = acc;
  }
  return roleMap;
}

// --- root.js --------------------------------------------------------------------------------

function rootToJSON(this: Root): JSONObject {
  return {
    _type: this.type,
    spec_version: this.specVersion,
    version: this.version,
    expires: this.expires,
    keys: mapEntries(this.keys, (key) => key.toJSON()),
    roles: mapEntries(this.roles, (role) => role.toJSON()),
    consistent_snapshot: this.consistentSnapshot,
    ...this.unrecognizedFields,
  };
}

function rootFromJSON(data: JSONObject): Root {
  const { unrecognizedFields, ...commonFields } = Signed.commonFieldsFromJSON(data);
  const { keys, roles, consistent_snapshot, ...rest } = unrecognizedFields as Fields;
  if (typeof consistent_snapshot !== 'boolean') {
    throw new TypeError('consistent_snapshot must be a boolean');
  }
  return new Root({
    ...commonFields,
    keys: rootKeysFromJSON(keys),
    roles: rootRolesFromJSON(roles),
    consistentSnapshot: consistent_snapshot,
    unrecognizedFields: rest,
  });
}

function rootKeysFromJSON(data: JSONValue | undefined): Record<string, Key> | undefined {
  let keys: Record<string, Key> | undefined;
  if (guard.isDefined(data)) {
    if (!guard.isObjectRecord(data)) {
      throw new TypeError('keys must be an object');
    }
    keys = mapEntries(data, (keyData, keyID) => Key.fromJSON(keyID, keyData));
  }
  return keys;
}

function rootRolesFromJSON(data: JSONValue | undefined): Record<string, RoleType> | undefined {
  let roles: Record<string, RoleType> | undefined;
  if (guard.isDefined(data)) {
    if (!guard.isObjectRecord(data)) {
      throw new TypeError('roles must be an object');
    }
    roles = mapEntries(data, (roleData) => Role.fromJSON(roleData));
  }
  return roles;
}
