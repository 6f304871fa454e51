#!/usr/bin/env bash
# python-tuf (the reference TUF client, `tuf.ngclient`) for test/python-tuf-client.test.ts: a second,
# independent client implementation reading the indexes tufpip-repo publishes. PyPI is not used:
# Debian's architecture-independent packages (trixie), pinned by version AND sha256, are downloaded
# from the Debian archive and extracted (never installed system-wide) into a cache folder; Debian's
# /usr/bin/python3 runs them with PYTHONPATH set, with its own python3-requests and
# python3-cryptography (installed with apt-get when missing, as root).
#
#   scripts/python-tuf.sh install   download + check + extract, if not already there (idempotent)
#   scripts/python-tuf.sh path      prints the PYTHONPATH folder (after `install`)
#
# Cache folder: $TUFPIP_PYTHON_TUF_DIR, default .cache/python-tuf in the project (gitignored).
# Archive: $TUFPIP_DEBIAN_MIRROR, default http://deb.debian.org/debian (the sha256 pins below are
# what is trusted, not the transport).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${TUFPIP_PYTHON_TUF_DIR:-$ROOT/.cache/python-tuf}"
MIRROR="${TUFPIP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PY=/usr/bin/python3
# name|pool path|sha256 (Debian trixie, architecture all)
DEBS=(
  "python3-tuf_5.1.0-2_all.deb|pool/main/p/python-tuf/python3-tuf_5.1.0-2_all.deb|30586ad69c23f9d59097e30f688a753dc2350f7781a97f0c44b79c54c0e57832"
  "python3-securesystemslib_1.2.0-2_all.deb|pool/main/p/python-securesystemslib/python3-securesystemslib_1.2.0-2_all.deb|753cfee27c7a0e3020278c6daa587060ae157d3ef4f7a7890b6611c446548230"
)
SITE="$DIR/root/usr/lib/python3/dist-packages"
# Written last by `install`: the pins it was extracted from (a changed pin re-extracts).
STAMP="$DIR/installed"

die() { echo "python-tuf: $*" >&2; exit 1; }

pins() { printf '%s\n' "${DEBS[@]}"; }

runtime_ok() { "$PY" -c 'import requests, cryptography' >/dev/null 2>&1; }

ensure_runtime() {
  [ -x "$PY" ] || die "needs Debian's $PY (apt-get install python3)"
  runtime_ok && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "needs Debian's python3-requests and python3-cryptography for $PY (apt-get install python3-requests python3-cryptography, as root)"
  fi
  echo "python-tuf: installing python3-requests python3-cryptography" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-requests python3-cryptography >/dev/null
  runtime_ok || die "$PY still cannot import requests and cryptography after apt-get install"
}

importable() { PYTHONPATH="$SITE" "$PY" -c 'from tuf.ngclient import Updater' >/dev/null 2>&1; }

cmd_install() {
  ensure_runtime
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(pins)" ] && importable; then return 0; fi
  TMP_WORK="$(mktemp -d "${TMPDIR:-/tmp}/tufpip-python-tuf.XXXXXX")"
  trap 'rm -rf "$TMP_WORK"' EXIT
  local tmp="$TMP_WORK"
  local entry name pool want got
  for entry in "${DEBS[@]}"; do
    IFS='|' read -r name pool want <<<"$entry"
    if ! curl -fsS --retry 2 --connect-timeout 15 --max-time 300 -o "$tmp/$name" "$MIRROR/$pool"; then
      die "cannot download $MIRROR/$pool (is the Debian archive reachable? set TUFPIP_DEBIAN_MIRROR for another mirror)"
    fi
    got="$(sha256sum "$tmp/$name" | cut -d' ' -f1)"
    [ "$got" = "$want" ] || die "refusing $name: its sha256 is $got, the pinned sha256 is $want"
    dpkg-deb -x "$tmp/$name" "$tmp/root" || die "cannot extract $name"
  done
  PYTHONPATH="$tmp/root/usr/lib/python3/dist-packages" "$PY" -c 'from tuf.ngclient import Updater' \
    || die "the extracted packages do not import (from tuf.ngclient import Updater) with $PY"
  # Replace the cache folder as a whole: a half-extracted folder is never left behind as "installed".
  mkdir -p "$DIR"
  rm -rf "$DIR/root" "$STAMP"
  mv "$tmp/root" "$DIR/root"
  pins >"$STAMP"
  echo "python-tuf: python3-tuf 5.1.0 and python3-securesystemslib 1.2.0 extracted into $DIR" >&2
}

cmd_path() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(pins)" ] || die "not installed in $DIR (run scripts/python-tuf.sh install)"
  echo "$SITE"
}

case "${1:-}" in
  install) cmd_install ;;
  path) cmd_path ;;
  *) echo "usage: scripts/python-tuf.sh install|path" >&2; exit 2 ;;
esac
