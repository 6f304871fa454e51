// The storage seam is the only way the repository commands reach published objects and private
// state (repo-tools/storage/storage.ts), so that every command works the same on every backend:
// no command, transaction or index module builds a path into the served tree or the private state
// itself. Read from the .ts sources, like test/architecture.test.ts.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './helpers/python.js';

/** The folders whose modules must go through the seam (storage/ implements it). */
const SCANNED = ['repo-tools/commands', 'repo-tools/txn', 'repo-tools/index'];

/** Paths into the served tree or the private state a module could build by itself. */
const DIRECT: ReadonlyArray<[RegExp, string]> = [
  [/\blayout\.(metadataFile|targetFile|metadataDir|journalFile|retiredFile)\b/, 'a path into the served tree or the private state'],
  [/\blayout\.site\b/, 'the served tree'],
  // Functions of storage/ that take a layout (a method of storage.state is the seam itself).
  [/(?<![.\w])(lastJournalEntry|appendJournal|loadRetired|appendRetired|loadExpiryCache)\(/, 'private records by path (use storage.state)'],
  [/['"`](pending\/?|expiry-cache\.json|due-summary\.json|retired-files|scan-state\.json)['"`/]/, 'a private record by name (storage/*.ts own them)'],
  [/(?<![.\w])(findLinksOutOfSite|findSecretsUnderSite|recordScannedDirs|verifyNoSecretsUnderSite)\(/, 'a scan of the local served tree (local-disk.ts owns it)'],
];

/** Real exceptions, each "file: pattern description: reason". */
const EXCEPTIONS: readonly string[] = [
  // init builds the repository in a temporary folder and names its root file in its result.
  'repo-tools/commands/init.ts: a path into the served tree or the private state',
  // serve is the web server of a local-disk repository: it serves site/ itself.
  'repo-tools/commands/serve.ts: the served tree',
];

function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const dir of SCANNED) {
    for (const e of fs.readdirSync(path.join(PROJECT_ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts')) continue;
      const abs = path.join(e.parentPath, e.name);
      out.push({ file: path.relative(PROJECT_ROOT, abs).split(path.sep).join('/'), text: fs.readFileSync(abs, 'utf8') });
    }
  }
  return out;
}

describe('seam: commands reach published objects and private state only through Storage', () => {
  it('no command, transaction or index module builds a path into site/ or the private state', () => {
    const found: string[] = [];
    const files = sources();
    expect(files.length).to.be.greaterThan(20);
    for (const { file, text } of files) {
      // Comments may name files; code may not build paths to them.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
      for (const [re, what] of DIRECT) {
        if (re.test(code) && !EXCEPTIONS.includes(`${file}: ${what}`)) found.push(`${file}: ${what} (${code.match(re)![0]})`);
      }
    }
    expect(found).to.deep.equal([]);
  });

  it('the check fires on a direct read (the rule is not vacuous)', () => {
    const code = "const t = fs.readFileSync(layout.metadataFile('timestamp.json'));";
    expect(DIRECT.some(([re]) => re.test(code))).to.equal(true);
    expect(DIRECT.some(([re]) => re.test('const last = await lastJournalEntry(layout);'))).to.equal(true);
    expect(DIRECT.some(([re]) => re.test("await storage.read('metadata', 'timestamp.json')"))).to.equal(false);
    expect(DIRECT.some(([re]) => re.test('const last = await storage.state.lastJournalEntry();'))).to.equal(false);
  });
});
