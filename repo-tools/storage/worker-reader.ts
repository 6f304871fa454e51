// A reader of published objects rebuilt inside a worker thread from the plain descriptor its
// Storage gave (storage.ts readerForWorkers): the worker reads through the same seam as the main
// thread, never from a path of its own.
import { LocalDiskReader } from './local-disk.js';
import { RepoLayout } from './layout.js';
import { s3ObjectKey, type S3Location } from './s3-location.js';
import type { Area, ReaderDescriptor, StorageReader } from './storage.js';

export function openWorkerReader(d: ReaderDescriptor): StorageReader {
  switch (d.backend) {
    case 'local-disk':
      return new LocalDiskReader(new RepoLayout(d.dir));
    case 's3':
      return lazyS3Reader(d.location);
  }
}

/** An S3Reader whose module (and the object-store client) loads on the first read. */
function lazyS3Reader(location: S3Location): StorageReader {
  let reader: Promise<StorageReader> | undefined;
  const open = () => (reader ??= import('./s3.js').then((m) => new m.S3Reader(location)));
  return {
    read: async (area: Area, name: string) => (await open()).read(area, name),
    stream: async (area: Area, name: string) => (await open()).stream(area, name),
    where: (area: Area, name: string) => `s3://${location.bucket}/${s3ObjectKey(location, area, name)}`,
  };
}
