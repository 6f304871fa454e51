#!/usr/bin/env bash
# A CDN on loopback for tests and trials: Debian's nginx as a caching reverse proxy in front of an
# index (`tufpip-repo serve`, or a bucket's public URL), honouring the origin's Cache-Control
# (metadata/cache-policy.ts: timestamp.json for a short max-age, hash-named and versioned objects
# `immutable`, errors `no-store`). It runs as the current user, with its prefix, configuration,
# cache, temporary folders, logs and pid file under DATA_DIR; it never touches /etc/nginx or the
# package's own service.
#
#   scripts/cdn-nginx.sh start ORIGIN_URL PORT [DATA_DIR]   # returns once nginx listens on 127.0.0.1:PORT
#   scripts/cdn-nginx.sh stop  ORIGIN_URL PORT [DATA_DIR]   # returns once nginx has exited
#
# A folder URL (ending in '/') is fetched as its index.html, as plain pip needs from an object
# store, which does not map `simple/P/` to `simple/P/index.html` by itself (docs/object-storage.md).
# DATA_DIR defaults to ${TMPDIR:-/tmp}/tufpip-cdn-PORT. Every response carries
# `X-Cache-Status` (HIT, MISS, EXPIRED...: nginx's $upstream_cache_status). Requires nginx
# (scripts/ensure-test-deps.sh installs Debian's).
set -euo pipefail

usage() { echo "usage: $0 start|stop ORIGIN_URL PORT [DATA_DIR]" >&2; exit 2; }
[ $# -ge 3 ] || usage
cmd=$1 origin=$2 port=$3
dir=${4:-${TMPDIR:-/tmp}/tufpip-cdn-$port}
[[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || { echo "cdn-nginx: PORT must be a port number, got '$port'" >&2; exit 2; }
[[ $origin =~ ^https?://[^[:space:]\;\'\"]+$ ]] || { echo "cdn-nginx: ORIGIN_URL must be an http(s) URL, got '$origin'" >&2; exit 2; }
case $origin in */) ;; *) origin="$origin/" ;; esac # /x is fetched from ORIGIN_URL/x
origin_path="/${origin#*://*/}" # the origin's path, '/' or ending in '/'

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "cdn-nginx: nginx is not installed (run scripts/ensure-test-deps.sh)" >&2; exit 1; }
conf="$dir/nginx.conf"
pidfile="$dir/nginx.pid"

running_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  if pid=$(running_pid); then echo "cdn-nginx: already running in $dir (pid $pid)" >&2; exit 1; fi
  mkdir -p "$dir"/{cache,client_body,proxy,fastcgi,uwsgi,scgi}
  chmod 700 "$dir"
  # A master started as root would switch its workers to `nobody`: keep them the current user's.
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
  cat >"$conf" <<EOF
$user_line
worker_processes 1;
pid $pidfile;
error_log $dir/error.log warn;
events { worker_connections 512; }
http {
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  log_format cdn '\$remote_addr "\$request" \$status \$upstream_cache_status';
  access_log $dir/access.log cdn;
  # Caching follows the origin's Cache-Control only: no proxy_cache_valid, so a response without
  # it (or with no-store, as every error of tufpip-repo serve) is never cached.
  proxy_cache_path $dir/cache levels=1:2 keys_zone=tufpip:10m max_size=1g inactive=7d use_temp_path=off;
  server {
    listen 127.0.0.1:$port;
    location / {
      # A rewritten URI goes to the origin whole (proxy_pass's own path no longer applies).
      rewrite ^/(.*/)?\$ ${origin_path}\$1index.html break;
      proxy_pass $origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache tufpip;
      proxy_cache_key \$scheme\$proxy_host\$request_uri;
      # One request to the origin per expired object, however many clients ask at once.
      proxy_cache_lock on;
      proxy_cache_revalidate on;
      add_header X-Cache-Status \$upstream_cache_status always;
    }
  }
}
EOF
  "$nginx_bin" -p "$dir" -c "$conf" -e "$dir/error.log" -t -q
  # The master daemonises once its listening socket is bound: from here on the port answers.
  "$nginx_bin" -p "$dir" -c "$conf" -e "$dir/error.log"
  for _ in $(seq 100); do
    if running_pid >/dev/null; then echo "cdn-nginx: http://127.0.0.1:$port/ -> $origin (data in $dir)"; return 0; fi
    sleep 0.05
  done
  echo "cdn-nginx: nginx did not start (see $dir/error.log)" >&2
  exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then echo "cdn-nginx: not running in $dir" >&2; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || { echo "cdn-nginx: stopped"; return 0; }
    sleep 0.05
  done
  echo "cdn-nginx: nginx (pid $pid) did not exit" >&2
  exit 1
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
