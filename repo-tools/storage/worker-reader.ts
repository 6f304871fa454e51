// A reader of published objects rebuilt inside a worker thread from the plain descriptor its
// Storage gave (storage.ts readerForWorkers): the worker reads through the same seam as the main
// thread, never from a path of its own.
import { LocalDiskReader } from './local-disk.js';
import { RepoLayout } from './layout.js';
import { S3Reader } from './s3.js';
import type { ReaderDescriptor, StorageReader } from './storage.js';

export function openWorkerReader(d: ReaderDescriptor): StorageReader {
  switch (d.backend) {
    case 'local-disk':
      return new LocalDiskReader(new RepoLayout(d.dir));
    case 's3':
      return new S3Reader(d.location);
  }
}
