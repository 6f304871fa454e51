// pip's PEP 592 warning, kept from the output of the verified download (pure). `fetch` and
// `install` capture that pip's output (it is shown only when pip fails), so a yanked version the
// user pinned (`NAME==V`) would be installed without the warning pip gives: it is passed on.
// pip 23.x logs (resolvelib/resolver.py): "The candidate selected for download or install is a
// yanked version: 'NAME' candidate (version V at URL)" then "Reason for being yanked: REASON".
// The URL is the temporary verifying proxy's, meaningless afterwards: it is left out.

const YANKED = /^WARNING: The candidate selected for download or install is a yanked version: (.*?) candidate \(version (\S+) at [^\n]*\)$/;
const REASON = /^Reason for being yanked: (.*)$/;

/** One line per yanked candidate pip selected: "'NAME' V is yanked (PEP 592): REASON". */
export function yankWarnings(pipOutput: string): string[] {
  const lines = pipOutput.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = YANKED.exec(lines[i]);
    if (!m) continue;
    const reason = REASON.exec(lines[i + 1] ?? '')?.[1] ?? '<none given>';
    out.push(`${m[1]} ${m[2]} is yanked (PEP 592), pip selected it because it was pinned: reason for being yanked: ${reason}`);
  }
  return out;
}
