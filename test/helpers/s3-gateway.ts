// Ceph's S3 gateway (scripts/s3-gateway.sh) for the object-storage tests: `useS3Gateway()`, called
// at the top level of a test file, registers root-level hooks that start the gateway once for the
// whole mocha run (about 12 s) and stop it after the last test. Tests get the endpoint, the
// credentials as environment variables for the CLIs (the SDK's default chain reads them), a
// client, and a fresh bucket each.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeS3Client } from '../../repo-tools/storage/s3-client.js';
import { runCommand } from './cli.js';
import { PROJECT_ROOT } from './python.js';

const SCRIPT = path.join(PROJECT_ROOT, 'scripts', 's3-gateway.sh');
/** The tests' own gateway (not the default one a developer may run by hand). */
const GATEWAY_ENV = {
  TUFPIP_S3GW_DIR: process.env.TUFPIP_S3GW_TEST_DIR ?? '/tmp/tufpip-s3gw-test',
  TUFPIP_S3GW_PORT: process.env.TUFPIP_S3GW_TEST_PORT ?? '17490',
};

export interface S3Gateway {
  endpoint: string;
  /** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION: for child processes. */
  env: Record<string, string>;
  client: S3Client;
}

let started: Promise<S3Gateway> | undefined;
let hooked = false;

function readCredentials(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_0-9]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

async function start(): Promise<S3Gateway> {
  const scriptEnv = { ...process.env, ...GATEWAY_ENV };
  let r = await runCommand('bash', [SCRIPT, 'start'], { env: scriptEnv, timeoutMs: 110_000 });
  if (r.code !== 0) {
    // One more try from scratch: a start can fail on a machine busy enough to miss a step's wait.
    console.error(`scripts/s3-gateway.sh start failed (${r.code ?? r.signal}), trying once more:\n${r.stderr}`);
    await runCommand('bash', [SCRIPT, 'stop'], { env: scriptEnv });
    r = await runCommand('bash', [SCRIPT, 'start'], { env: scriptEnv, timeoutMs: 110_000 });
  }
  if (r.code !== 0) throw new Error(`scripts/s3-gateway.sh start failed (${r.code ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  const endpoint = /^endpoint=(.*)$/m.exec(r.stdout)![1];
  const cred = readCredentials(/^credentials=(.*)$/m.exec(r.stdout)![1]);
  const env = { AWS_ACCESS_KEY_ID: cred.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: cred.AWS_SECRET_ACCESS_KEY, AWS_REGION: cred.AWS_REGION };
  // The client in this process reads the same default chain as the CLIs.
  Object.assign(process.env, env);
  return { endpoint, env, client: makeS3Client({ endpoint, region: env.AWS_REGION, pathStyle: true }) };
}

/** The running gateway (started on first use). */
export function s3Gateway(): Promise<S3Gateway> {
  started ??= start();
  return started;
}

/** Registers the root hooks: start before the first test of the run, stop after the last. */
export function useS3Gateway(): void {
  if (hooked) return;
  hooked = true;
  before(async function () {
    this.timeout(120_000);
    await s3Gateway();
  });
  after(async function () {
    this.timeout(60_000);
    await stopS3Gateway();
  });
}

/** Stops the gateway if this process started it. */
export async function stopS3Gateway(): Promise<void> {
  if (!started) return;
  started = undefined;
  await runCommand('bash', [SCRIPT, 'stop'], { env: { ...process.env, ...GATEWAY_ENV } });
}

/** A new, empty bucket with a unique name. */
export async function newBucket(prefix = 'tufpip'): Promise<string> {
  const gw = await s3Gateway();
  const name = `${prefix}-${randomBytes(5).toString('hex')}`;
  await gw.client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/**
 * Lets anyone read the objects under `prefix` (a bucket policy: s3:GetObject for Principal "*"),
 * as an operator does for clients or a CDN; the private prefix stays private.
 */
export async function makePublic(bucket: string, prefix: string): Promise<void> {
  const gw = await s3Gateway();
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/${prefix}*`] }],
  };
  await gw.client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
}

/** The `tufpip-repo init` flags of a repository at s3://BUCKET/PREFIX on the gateway, public URL included. */
export async function s3InitArgs(bucket: string, prefix: string): Promise<string[]> {
  const gw = await s3Gateway();
  return ['--storage', `s3://${bucket}/${prefix}`, '--s3-endpoint', gw.endpoint, '--s3-path-style', '--url', `${gw.endpoint}/${bucket}/${prefix}`];
}

/** Environment for the CLIs: the gateway's credentials (the SDK's default chain reads them). */
export async function s3Env(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  return { ...process.env, ...(await s3Gateway()).env, ...extra };
}

/**
 * A second "machine" of an S3 repository: a local folder of its own (config, keys, root v1),
 * sharing nothing local with `dir` (no lock, journal or staging).
 */
export function secondMachine(dir: string, to: string): string {
  fs.mkdirSync(to, { recursive: true });
  for (const f of ['config.json', '1.root.json']) fs.copyFileSync(path.join(dir, f), path.join(to, f));
  fs.cpSync(path.join(dir, 'keys'), path.join(to, 'keys'), { recursive: true });
  return to;
}

/** The keys of every object under `prefix` of `bucket` (all pages of the listing). */
export async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const { client } = await s3Gateway();
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out.push(o.Key!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Every object under `prefix` of `bucket`, copied to `to` (relative keys): for readers of a published tree. */
export async function download(bucket: string, prefix: string, to: string): Promise<void> {
  const { client } = await s3Gateway();
  for (const key of await listKeys(bucket, prefix)) {
    const body = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
    const file = path.join(to, ...key.slice(prefix.length).split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
  }
}
