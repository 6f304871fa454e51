#!/usr/bin/env bash
# A single-node Ceph S3 gateway on loopback, for the object-storage tests and benchmarks
# (docs/object-storage.md): Debian's ceph-mon, one ceph-osd on the memory-backed `memstore`
# object store and radosgw (packages 16.2.x). Ceph's gateway honours `If-None-Match: *` and
# `If-Match` atomically, which the concurrency tests depend on (an emulator that ignores them
# would let every writer "win").
#
#   scripts/s3-gateway.sh install   apt-get update + install the packages (as root), if missing
#   scripts/s3-gateway.sh start     start mon, osd, radosgw under $TUFPIP_S3GW_DIR
#                                   (default /tmp/tufpip-s3gw), create the S3 user; prints the
#                                   endpoint and the path of the 0600 credentials file
#   scripts/s3-gateway.sh env       prints `export AWS_...=...` lines (for eval; secrets: never
#                                   echo them into a log)
#   scripts/s3-gateway.sh stop      stops every daemon this script started and removes the data
#
# Ports: $TUFPIP_S3GW_PORT (default 17480) for S3 on 127.0.0.1, the monitor on PORT+1.
# `tcp_nodelay=1`: without it radosgw's small responses on a kept-alive connection wait for the
# client's delayed ACK (~40 ms per GET). Cluster authentication is off (`auth ... = none`): the cluster listens on loopback only and
# lives for one test run; the S3 user's keys are random per start and live in
# $DIR/credentials (mode 0600).
set -euo pipefail
DIR="${TUFPIP_S3GW_DIR:-/tmp/tufpip-s3gw}"
PORT="${TUFPIP_S3GW_PORT:-17480}"
MON_PORT=$((PORT + 1))
CONF="$DIR/ceph.conf"
CRED="$DIR/credentials"
PKGS=(ceph-mon ceph-osd radosgw ceph-common)

have_packages() { command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && command -v radosgw >/dev/null && command -v radosgw-admin >/dev/null && command -v monmaptool >/dev/null; }

cmd_install() {
  if have_packages; then return 0; fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "s3-gateway: needs Debian's ${PKGS[*]} (apt-get install ${PKGS[*]}, as root)" >&2
    exit 1
  fi
  echo "s3-gateway: installing ${PKGS[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
}

pids() { cat "$DIR"/run/*.pid 2>/dev/null || true; }

cmd_stop() {
  local p
  for p in $(pids); do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in $(pids); do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in $(pids); do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "s3-gateway: $what did not come up within ${secs}s (logs: $DIR/log)" >&2
      exit 1
    fi
    sleep 0.2
  done
}

# A failed start says which step failed and shows the daemons' last log lines (no secrets: the
# S3 keys are never logged), instead of exiting silently under `set -e`.
start_failed() {
  echo "s3-gateway: start failed at line $1: $2" >&2
  tail -n 15 "$DIR"/log/*.log >&2 2>/dev/null || true
}

cmd_start() {
  have_packages || cmd_install
  trap 'start_failed "$LINENO" "$BASH_COMMAND"' ERR
  if [ -f "$CRED" ] && curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
    echo "endpoint=http://127.0.0.1:$PORT"
    echo "credentials=$CRED"
    return 0
  fi
  cmd_stop
  mkdir -p "$DIR"/{run,log,mon/ceph-a,osd/ceph-0,rgw}
  chmod 0700 "$DIR"
  local fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
osd class update on start = false
osd crush update on start = false
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.a]
rgw data = $DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw lc debug interval = 10
EOF
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >/dev/null 2>&1
  ceph-mon -c "$CONF" -i a 2>>"$DIR/log/start.log"
  wait_for 20 "ceph-mon" ceph -c "$CONF" --connect-timeout 2 mon stat
  local id uuid
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph -c "$CONF" osd create "$uuid")
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >/dev/null 2>&1
  ceph -c "$CONF" osd crush add "osd.$id" 1 root=default >/dev/null 2>&1
  ceph-osd -c "$CONF" -i "$id" 2>>"$DIR/log/start.log"
  wait_for 30 "ceph-osd" bash -c "ceph -c '$CONF' osd stat | grep -q '1 up'"
  radosgw -c "$CONF" -n client.rgw.a 2>>"$DIR/log/start.log"
  wait_for 40 "radosgw" curl -sf -o /dev/null "http://127.0.0.1:$PORT/"
  local access secret
  access=$(head -c 15 /dev/urandom | base32 | tr -d '=' | head -c 20)
  secret=$(head -c 30 /dev/urandom | base64 | tr -d '=+/' | head -c 40)
  radosgw-admin -c "$CONF" user create --uid tufpip --display-name tufpip \
    --access-key "$access" --secret-key "$secret" >/dev/null 2>>"$DIR/log/start.log"
  (
    umask 077
    printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_REGION=us-east-1\nTUFPIP_S3_ENDPOINT=http://127.0.0.1:%s\n' "$access" "$secret" "$PORT" >"$CRED"
  )
  chmod 0600 "$CRED"
  echo "endpoint=http://127.0.0.1:$PORT"
  echo "credentials=$CRED"
}

cmd_env() {
  [ -f "$CRED" ] || { echo "s3-gateway: not started (no $CRED)" >&2; exit 1; }
  sed 's/^/export /' "$CRED"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
