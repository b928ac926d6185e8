#!/usr/bin/env bash
# Devices and rollouts (issue #6), in one run on loopback:
#  1. polls: 100,000 device rows (inserted with the sqlite3 shell into the stopped server's
#     database; tokens generated here, stored as SHA-256 hex as device_enrol does), then
#     `wrk --latency` on GET /api/v1/device/poll rotating the Authorization header over ~1,000
#     device tokens: without If-None-Match (200), with the matching ETag (304), and over all
#     100,000 tokens (every poll records the device's contact); against nginx serving the same
#     JSON body as a static file (200, and 304 with its own ETag), rounds alternating;
#  2. a fleet: a fresh upflowd, a change request walked to approval, a release built and pushed
#     with the CLI, `upflow sim fleet` (one process) registering N devices (1,000) with the
#     gateway token, and a rollout in three phases (10/50/100 %, start auto) over all of them:
#     wall time from creation to "finished", server CPU seconds (/proc/PID/stat), peak server
#     RSS (VmHWM).
# Writes bench/results/rollout-DATE.md. See docs/benchmarks.md, "Devices and rollouts".
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DEVICES=100000 SAMPLE=1000 DURATION=20 ROUNDS=3 WRK_OPTS="-t2 -c64" THREADS=4
FLEET=1000 FLEET_THREADS=16 FLEET_POLL=10 SLOT=524288 IMAGE_KIB=128 FLEET_DEADLINE=900
BUILD_DIR="" OUT="" KEEP=0 POLLS=1

usage() {
  cat <<'EOF'
Usage: bench/rollout.sh [OPTION]...
  --devices N          device rows for the poll measurements (default 100000)
  --sample N           device tokens wrk rotates over (default 1000)
  --duration S         seconds per wrk round (default 20)
  --rounds N           alternating upflowd/nginx rounds per variant (default 3)
  --wrk "-tT -cC"      wrk threads and connections, the same for both (default "-t2 -c64")
  --threads N          upflowd's HTTP threads, server.threads (default 4)
  --no-polls           skip the poll measurements
  --fleet N            simulated devices in the rollout (default 1000; 0 skips it). 10,000
                       (issue #6) does not finish here: upflowd accepts about 1,020
                       connections and each simulated device keeps its own open
                       (docs/benchmarks.md)
  --fleet-threads N    upflow sim fleet --threads (default 16)
  --fleet-poll S       the fleet's poll interval, and the server's (default 10)
  --slot-size BYTES    the simulated devices' slot size (default 524288)
  --image-kib N        image size in KiB (default 128)
  --fleet-deadline S   give the rollout at most S seconds (default 900)
  --build-dir DIR      use upflow and upflowd already built in DIR (Release)
  --keep               keep the temporary directory (printed at the end)
  --out FILE           results file (default bench/results/rollout-YYYY-MM-DD.md)
Installs wrk, nginx and time with apt when missing (as root; nginx's own service is kept from
starting). Needs sqlite3, python3, curl. Everything runs on 127.0.0.1.
EOF
}

ARGS=""
while [ $# -gt 0 ]; do
  case $1 in
    --devices) DEVICES=$2; ARGS="$ARGS --devices $2"; shift 2 ;;
    --sample) SAMPLE=$2; ARGS="$ARGS --sample $2"; shift 2 ;;
    --duration) DURATION=$2; ARGS="$ARGS --duration $2"; shift 2 ;;
    --rounds) ROUNDS=$2; ARGS="$ARGS --rounds $2"; shift 2 ;;
    --wrk) WRK_OPTS=$2; ARGS="$ARGS --wrk \"$2\""; shift 2 ;;
    --threads) THREADS=$2; ARGS="$ARGS --threads $2"; shift 2 ;;
    --no-polls) POLLS=0; ARGS="$ARGS --no-polls"; shift ;;
    --fleet) FLEET=$2; ARGS="$ARGS --fleet $2"; shift 2 ;;
    --fleet-threads) FLEET_THREADS=$2; ARGS="$ARGS --fleet-threads $2"; shift 2 ;;
    --fleet-poll) FLEET_POLL=$2; ARGS="$ARGS --fleet-poll $2"; shift 2 ;;
    --slot-size) SLOT=$2; ARGS="$ARGS --slot-size $2"; shift 2 ;;
    --image-kib) IMAGE_KIB=$2; ARGS="$ARGS --image-kib $2"; shift 2 ;;
    --fleet-deadline) FLEET_DEADLINE=$2; ARGS="$ARGS --fleet-deadline $2"; shift 2 ;;
    --build-dir) BUILD_DIR=$2; ARGS="$ARGS --build-dir $2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "rollout.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT=$REPO/bench/results/rollout-$(date -u +%Y-%m-%d).md
HELPER=(python3 "$REPO/bench/rollout_bench.py")
LUA=$REPO/bench/poll_report.lua

log() { printf '[rollout %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

TMP=$(mktemp -d /tmp/upflow-rollout-bench.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -- "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. tools and build -------------------------------------------------------------------
need_tools() {
  local missing=() p
  for p in wrk nginx time sqlite3 python3 curl; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install) or run as root"
  log "installing ${missing[*]}"
  # keep the nginx package from starting its own service on port 80 (Debian's policy-rc.d)
  local policy=/usr/sbin/policy-rc.d added=0 rc=0
  if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' >$policy; chmod 755 $policy; added=1; fi
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >"$TMP/apt.log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    rc=0
    { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends \
        "${missing[@]}"; } >>"$TMP/apt.log" 2>&1 || rc=$?
  fi
  [ $added = 1 ] && rm -f $policy
  [ $rc -eq 0 ] || { tail -20 "$TMP/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
}
need_tools

if [ -n "$BUILD_DIR" ]; then
  BIN=$(cd "$REPO" && realpath "$BUILD_DIR")/src
else
  log "building Release in build/bench"
  { timeout 1200 cmake -S "$REPO" -B "$REPO/build/bench" -DCMAKE_BUILD_TYPE=Release &&
    timeout 1200 cmake --build "$REPO/build/bench" --target upflow upflowd -j"$(nproc)"; } \
    >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; die "build failed (or pass --build-dir)"; }
  BIN=$REPO/build/bench/src
fi
UPFLOW=$BIN/upflow UPFLOWD=$BIN/upflowd
for b in "$UPFLOW" "$UPFLOWD"; do [ -x "$b" ] || die "no $b"; done
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BIN/../CMakeCache.txt" 2>/dev/null || true)
[ "$BUILD_TYPE" = Release ] || log "warning: $BIN is a '${BUILD_TYPE:-unknown}' build, not Release"

RUNS=$TMP/runs.txt VALUES=$TMP/values.txt
: >"$RUNS"; : >"$VALUES"
put() { echo "$1 $2" >>"$VALUES"; }  # put KEY VALUE
put args "$ARGS"
put date "$(date -u +%Y-%m-%d)"
put threads "$THREADS"

# utime + stime of PIDs, in clock ticks (the command name of both servers has no spaces)
ticks() { local p t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
HZ=$(getconf CLK_TCK)

SETTINGS=(--set auth.scrypt_log2_n=10 --set "workflow.templates_dir=$REPO/templates"
          --set "workflow.calendars_dir=$REPO/calendars" --set "server.threads=$THREADS")
SPID="" URL=""
start_server() {  # start_server DATA [--set K=V]...: sets SPID and URL
  local data=$1; shift
  rm -f "$TMP/port"
  "$UPFLOWD" -d "$data" -l 127.0.0.1:0 --port-file "$TMP/port" "${SETTINGS[@]}" "$@" \
    >>"$TMP/upflowd.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  for _ in $(seq 200); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  [ -s "$TMP/port" ] || { tail -20 "$TMP/upflowd.log" >&2; die "upflowd did not start"; }
  URL=http://127.0.0.1:$(cat "$TMP/port")
}
stop_server() {
  kill -TERM "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- 2. polls: 100,000 devices, wrk, nginx ------------------------------------------------
# run_wrk LABEL ROUND URL TOKENS ETAG PID...: one wrk round; the servers' CPU over it (PIDs)
run_wrk() {
  local label=$1 round=$2 url=$3 tokens=$4 etag=$5; shift 5
  local c0 c1 n
  c0=$(ticks "$@")
  # shellcheck disable=SC2086
  timeout $((DURATION + 60)) wrk $WRK_OPTS -d"${DURATION}s" --latency -s "$LUA" "$url" -- "$tokens" "$etag" \
    >"$TMP/wrk.out" 2>&1 || { cat "$TMP/wrk.out" >&2; die "wrk failed ($label)"; }
  c1=$(ticks "$@")
  local json
  json=$(grep '^{"requests"' "$TMP/wrk.out") || { cat "$TMP/wrk.out" >&2; die "no wrk report ($label)"; }
  n=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
  json=$(echo "$json" | python3 -c "import json,sys; d=json.load(sys.stdin); d['cpu_us']=round(($c1-$c0)/$HZ*1e6/max(1,$n),1); print(json.dumps(d))")
  echo "$label $round $json" >>"$RUNS"
  log "  round $round $label: $(echo "$json" | python3 -c 'import json,sys; print("{rps:.0f} req/s, p99 {p99_ms:.2f} ms, {cpu_us} us CPU/req, errors {errors_status}+{errors_socket}".format(**json.load(sys.stdin)))')"
}

if [ "$POLLS" = 1 ]; then
  DATA=$TMP/polls
  # the schema (every migration) comes with the first user; the server is not running yet
  echo "bench password" | "$UPFLOWD" -d "$DATA" "${SETTINGS[@]}" admin create-user --username rm \
    --password-file - --role release_manager >"$TMP/admin.log" 2>&1 || { cat "$TMP/admin.log" >&2; die "create-user failed"; }
  log "polls: inserting $DEVICES devices with sqlite3"
  "${HELPER[@]}" seed-sql "$DEVICES" bench "$TMP/tokens-all.txt" >"$TMP/seed.sql"
  t0=$(date +%s.%N)
  sqlite3 "$DATA/upflow.db" <"$TMP/seed.sql" || die "sqlite3 insert failed"
  put seed_s "$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")"
  rm -f "$TMP/seed.sql"
  [ "$(sqlite3 "$DATA/upflow.db" 'SELECT COUNT(*) FROM devices')" = "$DEVICES" ] || die "device rows missing"
  put devices "$DEVICES"
  "${HELPER[@]}" sample "$TMP/tokens-all.txt" "$SAMPLE" "$TMP/tokens.txt"
  put sample "$(wc -l <"$TMP/tokens.txt")"
  start_server "$DATA"
  put poll_interval_server 60
  POLL_URL=$URL/api/v1/device/poll
  TOKEN1=$(head -1 "$TMP/tokens.txt")
  mkdir -p "$TMP/www/api/v1/device"
  curl -sf -D "$TMP/poll.headers" -o "$TMP/www/api/v1/device/poll" -H "Authorization: Bearer $TOKEN1" "$POLL_URL" ||
    die "poll with a device token failed"
  ETAG=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$TMP/poll.headers" | tr -d '\r')
  [ -n "$ETAG" ] || die "no ETag in the poll's answer"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN1" -H "If-None-Match: $ETAG" "$POLL_URL")
  [ "$code" = 304 ] || die "poll with If-None-Match answered $code, not 304"
  put etag "$ETAG"
  put body "$(cat "$TMP/www/api/v1/device/poll")"
  put body_bytes "$(stat -c %s "$TMP/www/api/v1/device/poll")"
  put wrk "$WRK_OPTS"
  put duration "$DURATION"
  chmod 755 "$TMP" "$TMP/www" "$TMP/www/api" "$TMP/www/api/v1" "$TMP/www/api/v1/device"
  chmod 644 "$TMP/www/api/v1/device/poll"

  NGINX_PORT=$(free_port)
  mkdir -p "$TMP/nginx/logs"
  cat >"$TMP/nginx/nginx.conf" <<EOF
# the peer: two workers (one per core here), static files, keep-alive, as in measurements.md
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  open_file_cache max=16 inactive=60s;
  open_file_cache_valid 60s;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  default_type application/json;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
  }
}
EOF
  nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' >"$TMP/nginx/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  NGINX_URL=http://127.0.0.1:$NGINX_PORT/api/v1/device/poll
  for _ in $(seq 100); do curl -sf -o /dev/null "$NGINX_URL" && break; sleep 0.1; done
  curl -sf -D "$TMP/nginx.headers" -o "$TMP/nginx.body" "$NGINX_URL" || die "nginx did not start"
  cmp -s "$TMP/nginx.body" "$TMP/www/api/v1/device/poll" || die "nginx answers another body"
  NGINX_ETAG=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$TMP/nginx.headers" | tr -d '\r')
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $NGINX_ETAG" "$NGINX_URL")
  [ "$code" = 304 ] || die "nginx answered $code to its own ETag"
  NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
  [ -n "$NGINX_WORKERS" ] || die "no nginx workers"

  log "polls: warm-up (5 s, not recorded)"
  # shellcheck disable=SC2086
  wrk $WRK_OPTS -d5s -s "$LUA" "$POLL_URL" -- "$TMP/tokens-all.txt" "" >/dev/null 2>&1 || true
  log "polls: $ROUNDS rounds x (upflowd 200, 304, all tokens; nginx 200, 304), wrk $WRK_OPTS -d${DURATION}s"
  for r in $(seq "$ROUNDS"); do
    run_wrk poll200 "$r" "$POLL_URL" "$TMP/tokens.txt" "" "$SPID"
    run_wrk nginx200 "$r" "$NGINX_URL" "$TMP/tokens.txt" "" $NGINX_WORKERS
    run_wrk poll304 "$r" "$POLL_URL" "$TMP/tokens.txt" "$ETAG" "$SPID"
    run_wrk nginx304 "$r" "$NGINX_URL" "$TMP/tokens.txt" "$NGINX_ETAG" $NGINX_WORKERS
    run_wrk pollall "$r" "$POLL_URL" "$TMP/tokens-all.txt" "" "$SPID"
  done
  put poll.hwm_kib "$(awk '/^VmHWM:/ {print $2}' "/proc/$SPID/status")"
  put poll.seen_writes "$(sqlite3 "$DATA/upflow.db" 'SELECT COUNT(*) FROM devices WHERE last_seen IS NOT NULL')"
  stop_server
  kill -TERM "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  rm -rf "$DATA" "$TMP"/tokens*.txt
fi

# ---- 3. a fleet through a rollout ---------------------------------------------------------
if [ "$FLEET" -gt 0 ]; then
  DATA=$TMP/fleet-server
  log "fleet: users, server (poll interval $FLEET_POLL s)"
  while read -r user roles; do
    args=()
    for role in $roles; do args+=(--role "$role"); done
    echo "correct horse battery" | "$UPFLOWD" -d "$DATA" "${SETTINGS[@]}" admin create-user \
      --username "$user" --password-file - "${args[@]}" >"$TMP/admin.log" 2>&1 ||
      { cat "$TMP/admin.log" >&2; die "create-user $user failed"; }
  done < <(python3 -c "
import sys; sys.path.insert(0, '$REPO/tests/integration')
from change_walk import USERS
for u, roles in {**USERS, 'rm': ['release_manager'], 'root': ['admin']}.items(): print(u, ' '.join(roles))")
  start_server "$DATA" --set "devices.poll_interval=$FLEET_POLL"
  put fleet_poll_server "$FLEET_POLL"
  REQ=$("${HELPER[@]}" walk "$URL") || die "walking the change request failed"
  log "fleet: change request $REQ is RELEASE_PENDING"
  export UPFLOW_SERVER=$URL HOME=$TMP
  UPFLOW_TOKEN=$("${HELPER[@]}" login "$URL" rm) || die "login failed"
  export UPFLOW_TOKEN
  cli() { "$UPFLOW" "$@" >"$TMP/cli.out" 2>"$TMP/cli.err" || { cat "$TMP/cli.err" >&2; die "upflow $*: failed"; }; }
  WS=$TMP/ws
  cli repo init --dir "$WS" --root-keys 1 --root-threshold 1
  IMG=$TMP/bench-2.0.0.img
  # half random (does not compress), half a repeated line (does)
  python3 -c "import os, sys; n = $IMAGE_KIB * 512; sys.stdout.buffer.write(os.urandom(n) + (b'upflow bench 2.0.0\\n' * n)[:n])" >"$IMG"
  cli image create --min 4K --avg 16K --max 64K --level 3 --threads 1 "$IMG"
  put fleet.image_bytes "$(stat -c %s "$IMG")"
  put fleet.payload "$(stat -c %s "$IMG.upfpay")"
  put fleet.chunks "$("$UPFLOW" image inspect "$IMG.upfidx" | awk '/^chunks:/ {print $2}')"
  cli release add --dir "$WS" "$IMG.upfidx" --product bench --version 2.0.0 --name rootfs --hardware rev2
  cli repo push --dir "$WS"
  "${HELPER[@]}" gateway "$URL" >"$TMP/gateway-token" || die "gateway token failed"

  log "fleet: upflow sim fleet --devices $FLEET --threads $FLEET_THREADS --poll-interval $FLEET_POLL"
  put fleet.devices "$FLEET"; put fleet.threads "$FLEET_THREADS"; put fleet.poll "$FLEET_POLL"
  put fleet.slot "$SLOT"
  IDLE=$((FLEET_POLL * 3 + 30))   # idle between phases and before the rollout must not end it
  c0=$(ticks "$SPID")
  /usr/bin/time -f '%e %M %U %S' -o "$TMP/fleet.time" \
    "$UPFLOW" sim fleet --server "$URL" --gateway-token-file "$TMP/gateway-token" \
      --devices "$FLEET" --repo "$URL/tuf/default" --root "$WS/metadata/1.root.json" \
      --dir "$TMP/fleet" --threads "$FLEET_THREADS" --poll-interval "$FLEET_POLL" \
      --slot-size "$SLOT" --prefix fleet --until-idle "$IDLE" --json \
      >"$TMP/fleet.json" 2>"$TMP/fleet.err" &
  FLEET_PID=$!
  SIM_PID=""
  for _ in $(seq 50); do SIM_PID=$(pgrep -P "$FLEET_PID" || true); [ -n "$SIM_PID" ] && break; sleep 0.1; done
  # /usr/bin/time does not pass a signal on: the trap ends the simulator itself first
  PIDS+=($SIM_PID "$FLEET_PID")
  t0=$(date +%s.%N)
  "${HELPER[@]}" wait-devices "$DATA/upflow.db" fleet "$FLEET" "$FLEET_DEADLINE" >"$TMP/reg.out" ||
    { tail -5 "$TMP/fleet.err" >&2; die "the fleet did not register"; }
  put fleet.register "{\"wall_s\": $(python3 -c "print(round($(date +%s.%N) - $t0, 1))"), \"server_cpu_s\": $(python3 -c "print(round(($(ticks "$SPID") - $c0) / $HZ, 2))")}"
  log "fleet: $FLEET devices registered ($(cat "$TMP/reg.out") s after the fleet started)"
  sleep $((FLEET_POLL + 2))   # every device has polled once since registering
  cat >"$TMP/rollout.json" <<EOF
{"name": "bench 2.0.0", "release": "bench/2.0.0/rootfs.upfidx", "changes": [$REQ],
 "phases": [{"name": "pilot", "percent": 10}, {"name": "early", "percent": 50},
            {"name": "all", "percent": 100}],
 "success_threshold": 90, "error_threshold": 10, "start": "auto"}
EOF
  put fleet.phases "10/50/100"
  put fleet.success 90
  log "fleet: rollout created; waiting for it to finish (at most $FLEET_DEADLINE s)"
  "${HELPER[@]}" rollout "$URL" "$SPID" "$TMP/rollout.json" "$FLEET_DEADLINE" "$TMP/timeline.jsonl" \
    >"$TMP/rollout.out" || die "rollout measurement failed"
  put fleet.result "$(cat "$TMP/rollout.out")"
  put fleet.timeline "$(tr '\n' '|' <"$TMP/timeline.jsonl")"
  state=$(python3 -c "import json; print(json.load(open('$TMP/rollout.out'))['state'])")
  log "fleet: rollout $state: $(cat "$TMP/rollout.out")"
  [ "$state" = finished ] || put fleet.note1 "**The rollout did not finish**: it was \`$state\` after $FLEET_DEADLINE s (counts above)."
  # the fleet ends by itself once nothing happened for IDLE seconds
  for _ in $(seq $((IDLE * 2 + 120))); do kill -0 "$FLEET_PID" 2>/dev/null || break; sleep 1; done
  if kill -0 "$FLEET_PID" 2>/dev/null; then
    kill -TERM $SIM_PID 2>/dev/null || true
    put fleet.note2 "The simulator did not end by itself; it was stopped."
  fi
  rc=0; wait "$FLEET_PID" || rc=$?
  read -r fw frss fu fs <"$TMP/fleet.time" || true
  put fleet.sim "{\"wall_s\": ${fw:-0}, \"rss_kib\": ${frss:-0}, \"user_s\": ${fu:-0}, \"sys_s\": ${fs:-0}, \"rc\": $rc}"
  [ -s "$TMP/fleet.json" ] && put fleet.summary "$(python3 -c "import json; print(json.dumps(json.load(open('$TMP/fleet.json'))['states']))" 2>/dev/null || echo '?')"
  grep -v '^$' "$TMP/fleet.err" | sort | uniq -c | sort -rn | head -5 >"$TMP/fleet.err.top" || true
  [ -s "$TMP/fleet.err.top" ] && put fleet.note3 "Simulator warnings (most frequent): $(tr '\n' ';' <"$TMP/fleet.err.top" | cut -c1-600)"
  stop_server
  rm -rf "$TMP/fleet"
fi

# ---- 4. machine, versions, report ---------------------------------------------------------
pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
{
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "upflow: $("$UPFLOW" --version | head -1 | awk '{print $NF}') ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null && [ -z "$(git -C "$REPO" ls-files --others --exclude-standard src)" ] || echo ' plus uncommitted src/ changes'))"
  echo "SQLite $(pkgver libsqlite3-0), libmicrohttpd $(pkgver libmicrohttpd12), libcurl $(pkgver libcurl4), nginx $(pkgver nginx), wrk $(pkgver wrk)"
} >"$TMP/machine.txt"
mkdir -p "$(dirname "$OUT")"
"${HELPER[@]}" report "$VALUES" "$RUNS" "$TMP/machine.txt" "$OUT"
log "wrote $OUT"
