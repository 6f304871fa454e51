// `npm run bench`: every benchmark, one after the other; each prints its own figures.
// Sizes can be reduced for a quick run with BENCH_QUICK=1.
import { benchRepo } from './repo.bench.js';
import { installLinearModels } from '../tuf/linear-models.js';
import { benchLinearModels } from './linear-models.bench.js';
import { benchClientRefresh } from './client-refresh.bench.js';
import { benchFetch } from './fetch.bench.js';
import { benchPep480Lookup } from './pep480-lookup.bench.js';
import { benchLock } from './lock.bench.js';
import { benchWatch } from './watch.bench.js';
import { benchS3 } from './s3.bench.js';

// A bench entry: parse as the CLIs do (linear @tufjs/models, tuf/linear-models.ts).
installLinearModels();

const quick = !!process.env.BENCH_QUICK;
const section = (t: string) => console.log(`\n== ${t}`);

section('repository: build, add, bump');
await benchRepo(quick ? [100_000] : [100_000, 1_000_000]);
section('@tufjs/models parsing: upstream vs linear');
await benchLinearModels();
section('client: refresh against 16,384 bins');
await benchClientRefresh();
section('client: tufpip fetch vs pip download');
await benchFetch();
section('PEP 480: lookup in a project with 5,000 files');
await benchPep480Lookup();
section('client: install --locked vs pip --require-hashes; lock --check of 100 packages');
await benchLock();
section('tufpip watch: 1,000 new files in 100 snapshot versions of a 16,384-bin index');
await benchWatch(quick ? 200 : 1000, quick ? 20 : 100);
section('object storage: S3 (Ceph gateway on loopback, scripts/s3-gateway.sh)');
await benchS3(quick);
