// Test-only preload for crash tests (`node --import <this file> bin/tufpip-repo.js ...`): the
// process SIGKILLs itself at one exact point of a transaction, named by the environment:
//   TUFPIP_TEST_KILL_BEFORE_APPEND=<basename>  when it opens that file for appending (the journal:
//                                              after the record of withdrawn files, before timestamp.json)
//   TUFPIP_TEST_KILL_AFTER_RENAME=<basename>   right after a rename onto that name (timestamp.json:
//                                              published, post steps and journal close pending),
//                                              by fs.renameSync or fs.promises.rename
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
