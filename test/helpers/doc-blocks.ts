// Executable documentation: the ```sh blocks of a Markdown page, and one bash script that runs
// them in order with a map from each script line back to the page's line, so a failure names the
// page, the line and the block.

export interface ShBlock {
  file: string;
  /** 1-based line of the block's first line in the page. */
  line: number;
  lines: string[];
}

/** Every fenced block whose info string is exactly `sh` (indented blocks in lists included). */
export function shBlocks(markdown: string, file: string): ShBlock[] {
  const out: ShBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```sh\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].slice(Math.min(indent, lines[j].length - lines[j].trimStart().length)));
    if (j === lines.length) throw new Error(`${file}:${i + 1}: a \`\`\`sh block is never closed`);
    out.push({ file, line: i + 2, lines: body });
    i = j;
  }
  return out;
}

export interface DocScript {
  script: string;
  /** For each 1-based script line: where it came from, or undefined for the harness's own lines. */
  origin: ({ block: ShBlock; line: number } | undefined)[];
}

/** One bash script running the blocks in order; the first failing command stops it (set -e). */
export function docScript(blocks: ShBlock[]): DocScript {
  const head = [
    'set -eE -o pipefail',
    // The failing command's line (LINENO) and text; the test maps the line back to the page.
    `trap 'echo "__DOCS_FAILED__ $LINENO $? $BASH_COMMAND" >&2' ERR`,
  ];
  const script: string[] = [...head];
  const origin: DocScript['origin'] = [undefined, ...head.map(() => undefined)];
  for (const block of blocks) {
    block.lines.forEach((text, k) => {
      script.push(text);
      origin.push({ block, line: block.line + k });
    });
  }
  script.push('echo __DOCS_DONE__');
  return { script: script.join('\n') + '\n', origin };
}
