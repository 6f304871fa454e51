// The S3 gateway the object-storage tests run against (scripts/s3-gateway.sh: Ceph's radosgw) is
// fit for them: its conditional writes are atomic, which the backend's correctness across
// writers rests on (storage/s3.ts). An emulator that ignores `If-None-Match` lets every writer win.
import { expect } from 'chai';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { newBucket, s3Gateway, useS3Gateway } from './helpers/s3-gateway.js';
import { s3Status } from '../repo-tools/storage/s3-client.js';

useS3Gateway();

describe('S3 gateway (Ceph radosgw on loopback)', () => {
  it('16 concurrent If-None-Match: * PUTs of one key: exactly one wins, the others get 412, the object holds the winner', async () => {
    const { client } = await s3Gateway();
    const Bucket = await newBucket();
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        client.send(new PutObjectCommand({ Bucket, Key: 'k', Body: `writer ${i}`, IfNoneMatch: '*' })).then(
          () => ({ i, status: 200 }),
          (err: unknown) => ({ i, status: s3Status(err) ?? -1 }),
        ),
      ),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners, JSON.stringify(results)).to.have.length(1);
    expect(results.filter((r) => r.status !== 200).map((r) => r.status)).to.satisfy((s: number[]) => s.every((x) => x === 412 || x === 409));
    const body = await (await client.send(new GetObjectCommand({ Bucket, Key: 'k' }))).Body!.transformToString();
    expect(body).to.equal(`writer ${winners[0].i}`);
  });

  it('If-Match with the current ETag (unquoted) replaces; with a stale ETag it is refused with 412', async () => {
    const { client } = await s3Gateway();
    const Bucket = await newBucket();
    const first = await client.send(new PutObjectCommand({ Bucket, Key: 'head', Body: 'v1' }));
    const etag1 = first.ETag!.replace(/"/g, '');
    await client.send(new PutObjectCommand({ Bucket, Key: 'head', Body: 'v2', IfMatch: etag1 }));
    const stale = await client.send(new PutObjectCommand({ Bucket, Key: 'head', Body: 'v3', IfMatch: etag1 })).then(
      () => 200,
      (err: unknown) => s3Status(err),
    );
    expect(stale).to.equal(412);
    const body = await (await client.send(new GetObjectCommand({ Bucket, Key: 'head' }))).Body!.transformToString();
    expect(body).to.equal('v2');
  });
});
