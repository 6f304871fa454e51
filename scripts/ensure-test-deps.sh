#!/usr/bin/env bash
# Makes sure what the end-to-end tests need is on the machine: a Python 3 with the venv module
# and pip (tests create real virtual environments and run real pip, offline); Debian's wheel of
# `wheel` (/usr/share/python-wheels/wheel-*.whl: the sdist tests publish it on their index as a
# build dependency of setuptools); and curl (the README's and runbook's commands, run by
# test/docs-commands.test.ts, wait for the server with it); Debian's nginx (the CDN of
# test/cdn-*.test.ts: scripts/cdn-nginx.sh runs it as the current user, the package's own
# service is never started by the tests); Ceph's S3 gateway (scripts/s3-gateway.sh). Installs Debian's packages when
# missing (as root, e.g. on CI); otherwise says what to install.
set -euo pipefail
# The object-storage tests (test/s3-*.test.ts) run Ceph's S3 gateway: Debian's ceph-mon, ceph-osd, radosgw.
bash "$(dirname "$0")/s3-gateway.sh" install
# test/python-tuf-client.test.ts reads the indexes with python-tuf's ngclient (Debian's packages, pinned by sha256).
bash "$(dirname "$0")/python-tuf.sh" install
py="${TUFPIP_TEST_PYTHON:-python3}"
python_ok() { "$py" -c 'import venv, ensurepip, sys; assert sys.version_info >= (3, 8)' >/dev/null 2>&1 && "$py" -m pip --version >/dev/null 2>&1; }
wheel_ok() { compgen -G '/usr/share/python-wheels/wheel-*.whl' >/dev/null; }
nginx_ok() { [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null; }
ok() { python_ok && wheel_ok && command -v curl >/dev/null && nginx_ok; }
if ok; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-test-deps: installing python3, python3-venv, python3-pip, python3-wheel-whl, curl, nginx" >&2
  # policy-rc.d 101: the package's own nginx service is not started (the tests run their own).
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip python3-wheel-whl curl nginx >/dev/null
  python_ok || py=python3
  ok && exit 0
fi
echo "ensure-test-deps: the tests need Python 3 with venv and pip, Debian's python3-wheel-whl, curl and nginx (apt-get install python3-venv python3-pip python3-wheel-whl curl nginx)" >&2
exit 1
