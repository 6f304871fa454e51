// Test-only preload for crash tests (`node --import <this file> bin/tufpip-repo.js ...`): the
// process SIGKILLs itself at one exact point of a transaction, named by the environment:
//   TUFPIP_TEST_KILL_BEFORE_APPEND=<basename>  when it opens that file for appending (the journal:
//                                              after the record of withdrawn files, before timestamp.json)
//   TUFPIP_TEST_KILL_AFTER_RENAME=<basename>   right after a rename onto that name (timestamp.json:
//                                              published, post steps and journal close pending),
//                                              by fs.renameSync or fs.promises.rename
//   TUFPIP_TEST_KILL_AFTER_MKDIR=<prefix>      right after fs.promises.mkdir creates a directory
//                                              whose name starts with it (a lock takeover marker)
//   TUFPIP_TEST_KILL_AFTER_RMDIR=<basename>    right after fs.promises.rmdir removes a directory of
//                                              that name (a stale lock taken over)
// A real SIGKILL (nothing runs after it: no finally, no exit handler), at a point a timer could
// only hit by chance.
import fs from 'node:fs';
import path from 'node:path';

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered before kill(2) returns; never go on if it were not.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

const beforeAppend = process.env.TUFPIP_TEST_KILL_BEFORE_APPEND;
if (beforeAppend) {
  const openSync = fs.openSync;
  fs.openSync = ((file: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
    if (flags === 'a' && path.basename(String(file)) === beforeAppend) die();
    return openSync(file, flags ?? 'r', mode);
  }) as typeof fs.openSync;
}

const afterRename = process.env.TUFPIP_TEST_KILL_AFTER_RENAME;
if (afterRename) {
  const renameSync = fs.renameSync;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    renameSync(from, to);
    if (path.basename(String(to)) === afterRename) die();
  }) as typeof fs.renameSync;
  const rename = fs.promises.rename;
  fs.promises.rename = (async (from: fs.PathLike, to: fs.PathLike) => {
    await rename(from, to);
    if (path.basename(String(to)) === afterRename) die();
  }) as typeof fs.promises.rename;
}

const afterMkdir = process.env.TUFPIP_TEST_KILL_AFTER_MKDIR;
if (afterMkdir) {
  const mkdir = fs.promises.mkdir;
  fs.promises.mkdir = (async (p: fs.PathLike, o?: fs.MakeDirectoryOptions) => {
    const r = await mkdir(p, o);
    if (path.basename(String(p)).startsWith(afterMkdir)) die();
    return r;
  }) as typeof fs.promises.mkdir;
}

const afterRmdir = process.env.TUFPIP_TEST_KILL_AFTER_RMDIR;
if (afterRmdir) {
  const rmdir = fs.promises.rmdir;
  fs.promises.rmdir = (async (p: fs.PathLike, o?: fs.RmDirOptions) => {
    await rmdir(p, o);
    if (path.basename(String(p)) === afterRmdir) die();
  }) as typeof fs.promises.rmdir;
}
