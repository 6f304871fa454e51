// The S3 client of the object-storage backend (s3.ts), made in one place: endpoint, region and
// path-style addressing come from the repository's config (s3-location.ts); credentials ONLY from
// the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE, the shared
// credentials file), never from the command line or config.json. Checksums only where the API
// requires them (WHEN_REQUIRED): S3-compatible servers such as Ceph's radosgw 16.x reject the
// SDK's default CRC32 trailers.
import http from 'node:http';
import https from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';

export interface S3Endpoint {
  /** http(s) URL of an S3-compatible server; absent: AWS's regional endpoint. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`ENDPOINT/BUCKET/KEY`), which most self-hosted servers need. */
  pathStyle?: boolean;
}

export function makeS3Client(e: S3Endpoint): S3Client {
  // The pinned SDK supports Node 20 (DESIGN.md runtime); its notice about later SDK versions
  // needing Node 22 would be printed by every CLI run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: e.endpoint,
    region: e.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: e.pathStyle ?? false,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    // TCP_NODELAY: the SDK writes a request's headers and body separately, and with Nagle's
    // algorithm each small PUT then waits for the server's delayed ACK (~40 ms on loopback).
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true, noDelay: true }), httpsAgent: new https.Agent({ keepAlive: true, noDelay: true }) },
  });
}

/** The HTTP status of an SDK error (412 Precondition Failed, 404...), or undefined. */
export function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
