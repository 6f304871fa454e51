// The pip configuration `tufpip proxy` writes for the pip command it prints (docs/pip-commands.md
// "tufpip proxy"): pip's only source is the verifying proxy. Pure: the caller writes the file.
//
// What pip 23.2 reads (pip/_internal/configuration.py, cli/parser.py): `--isolated` skips PIP_*
// variables and the user's pip.conf, but NOT the file named by PIP_CONFIG_FILE, the global files
// (/etc/pip.conf, /etc/xdg/pip/pip.conf) nor the site file (<venv>/pip.conf). Later variants win
// per key (global < site < PIP_CONFIG_FILE), and a command's section ([install]) wins over
// [global]. So this file, given as PIP_CONFIG_FILE, sets every option that adds a source of
// distributions (or a requirements/constraints file, which may itself name one) to empty, in
// [global] and in each command's section: a global or site pip.conf cannot add a source. `proxy`
// too: pip sends every request through a configured HTTP proxy, whatever no_proxy says, and that
// proxy would see the secret and could answer in the verifying proxy's place.
/** pip options whose value adds a source of files (directly, or through a file it reads), or a
 * middleman for the proxy's requests. */
const SOURCE_OPTIONS = ['extra-index-url', 'find-links', 'requirement', 'constraint', 'editable', 'proxy'];
/** The sections pip reads for the commands that resolve against an index. */
const SECTIONS = ['global', 'install', 'download', 'wheel', 'index', 'list'];

export function proxyPipConfig(indexUrl: string, timeoutSeconds: number): string {
  const lines = [
    '# Written by `tufpip proxy` for this run (removed when it stops). It holds the proxy\'s',
    '# secret: do not share it. The verifying proxy is pip\'s only source.',
  ];
  for (const section of SECTIONS) {
    lines.push(`[${section}]`, `index-url = ${indexUrl}`, ...SOURCE_OPTIONS.map((o) => `${o} =`));
    if (section === 'global') lines.push(`timeout = ${timeoutSeconds}`, 'disable-pip-version-check = true');
  }
  return lines.join('\n') + '\n';
}

/**
 * The printed command. PIP_CONFIG_FILE: the file above; `no_proxy`: requests would otherwise send
 * pip's requests to the proxy host through an HTTP(S)_PROXY from the environment (the lower-case
 * name wins over NO_PROXY in requests); `--isolated`: no PIP_* variables, no user pip.conf.
 */
export function proxyPipCommand(configFile: string, proxyHost: string, python = 'python3'): string {
  const host = proxyHost.replace(/^\[|\]$/g, '');
  return `PIP_CONFIG_FILE=${shellWord(configFile)} no_proxy=${shellWord(host)} ${python} -m pip --isolated install PACKAGE`;
}

/** A POSIX shell word: as is when it is plain, else single-quoted. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
