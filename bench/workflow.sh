#!/usr/bin/env bash
# bench/workflow.sh - the workflow server benchmark (issue #3), one run on loopback:
# builds upflowd (Release), starts it on a fresh data directory with the shipped templates,
# seeds N software-modification REQ records through the API, fires T02 on distinct records,
# and times GET /api/v1/records (first page, a deep cursor page, two state filters).
# Each figure is reported against a peer measured in this same run: the sqlite3 CLI writing
# the same rows raw on a copy of the same database, and nginx serving the same JSON bodies
# as static files. Prints a Markdown table and writes it to bench/results/workflow-DATE.md.
# See docs/benchmarks.md for what is measured and how to read it.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/workflow.sh [--records N] [options]
  --records N         records to seed (default 100000)
  --clients N         concurrent API clients for seeding and transitions (default 8)
  --duration S        seconds per wrk run and for the transition phase (default 10)
  --rounds N          alternating upflowd/nginx wrk rounds per list variant (default 3)
  --wrk "-tT -cC"     wrk threads and connections, the same for upflowd and nginx (default "-t2 -c8")
  --seed-max-seconds S  stop seeding after S seconds and measure what exists (default 900)
  --build-dir DIR     use the upflowd already built in DIR (e.g. build/release) instead of
                      building build/bench
  --perf              also sample upflowd with perf during transitions and the first-page list
  --out FILE          results file (default bench/results/workflow-YYYY-MM-DD.md)
  --keep              keep the temporary directory (data, logs, raw JSON)
EOF
}

RECORDS=100000 CLIENTS=8 DURATION=10 ROUNDS=3 WRK_OPTS="-t2 -c8" SEED_MAX=900
BUILD_DIR="" PERF=0 OUT="" KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --records) RECORDS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --wrk) WRK_OPTS=$2; shift 2 ;;
    --seed-max-seconds) SEED_MAX=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --perf) PERF=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "workflow.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$RECORDS" "$CLIENTS" "$DURATION" "$ROUNDS" "$SEED_MAX"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "workflow.sh: '$n' is not a positive whole number" >&2; exit 2; }
done
[ "$RECORDS" -ge 200 ] || { echo "workflow.sh: --records must be at least 200" >&2; exit 2; }

REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$REPO/bench
# the system interpreter: a version manager's shim costs ~0.5 s a start
PY=$(command -v /usr/bin/python3 || command -v python3)
CLIENT=("$PY" "$BENCH/workflow_client.py")
DATE=$(date +%Y-%m-%d)
OUT=${OUT:-$BENCH/results/workflow-$DATE.md}
WRK_LUA=$BENCH/wrk_report.lua

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run a long command as a tracked child and wait for it: bash runs a trap only between
# commands, and `wait` is one it can interrupt, so INT/TERM end the run at once.
track() {
  "$@" <&0 &   # an explicit redirection: a background job would otherwise read /dev/null
  local pid=$! rc=0
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  untrack "$pid"
  return $rc
}
# Forget a child that has ended, so that cleanup never signals a recycled pid.
untrack() {
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# ---- the processes this script starts, ended on any exit --------------------------------
PIDS=()
TMP=""
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "$TMP" ]; then
    if [ "$KEEP" = 1 ] || [ $rc -ne 0 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools: wrk and nginx from Debian, only if missing ----------------------------------
ensure_packages() {
  local missing=() p
  for p in wrk nginx sqlite3 python3 cmake; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (as root: apt-get install -y --no-install-recommends ${missing[*]})"
  log "installing ${missing[*]}"
  # keep the nginx package from starting its own service on port 80 (Debian's policy-rc.d)
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod 755 $policy; added=1; fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || rc=$?
  if [ $rc -ne 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || rc=$?
  fi
  [ $added = 1 ] && rm -f $policy
  [ $rc -eq 0 ] || die "apt-get install ${missing[*]} failed"
}

build() {
  if [ -n "$BUILD_DIR" ]; then
    UPFLOWD=$(cd "$REPO" && realpath "$BUILD_DIR")/src/upflowd
    [ -x "$UPFLOWD" ] || die "no upflowd in $BUILD_DIR/src"
    BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$UPFLOWD")/../CMakeCache.txt" 2>/dev/null || true)
    [ "$BUILD_TYPE" = Release ] || log "warning: $BUILD_DIR is a '${BUILD_TYPE:-unknown}' build, not Release"
    return
  fi
  log "building Release in build/bench"
  track cmake -S "$REPO" -B "$REPO/build/bench" -DCMAKE_BUILD_TYPE=Release >"$TMP/build.log" 2>&1 &&
    track cmake --build "$REPO/build/bench" --target upflowd -j"$(nproc)" >>"$TMP/build.log" 2>&1 ||
    { tail -30 "$TMP/build.log" >&2; die "build failed (full log above; or pass --build-dir build/release)"; }
  UPFLOWD=$REPO/build/bench/src/upflowd
  BUILD_TYPE=Release
}

jget() { "$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("" if v is None else v)' "$1" "$2"; }

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Last JSON line of a wrk run against 127.0.0.1:$1$2 (path), into $3; $4 the token or "".
run_wrk() {
  local port=$1 path=$2 out=$3 token=$4
  # shellcheck disable=SC2086
  track timeout $((DURATION + 60)) wrk $WRK_OPTS -d"${DURATION}s" --timeout 10s -s "$WRK_LUA" \
    "http://127.0.0.1:$port$path" -- "$token" >"$out.txt" 2>&1 || die "wrk on $path failed: $(tail -3 "$out.txt")"
  grep '^{' "$out.txt" | tail -1 >"$out"
  [ -s "$out" ] || die "wrk on $path printed no result: $(tail -3 "$out.txt")"
}

# perf samples of upflowd for $1 seconds into $2 (background; its pid in PERF_PID)
start_perf() {
  PERF_PID=""
  [ "$PERF" = 1 ] || return 0
  perf record -F 499 -g -p "$UPID" -o "$2" -- sleep "$1" >"$2.log" 2>&1 &
  PERF_PID=$!
  PIDS+=("$PERF_PID")
}
finish_perf() {
  [ -n "${PERF_PID:-}" ] || return 0
  wait "$PERF_PID" || true
  untrack "$PERF_PID"
  perf report -i "$1" -g none --no-children --sort dso,symbol --percent-limit 0.7 --stdio 2>/dev/null |
    grep -v '^$' | grep -E '^ +[0-9]' | head -40 >"$2" || true
  perf report -i "$1" -g none --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12 >"$2.dso" || true
}

# ---- 1. tools and build -----------------------------------------------------------------
TMP=$(mktemp -d /tmp/upflow-bench.XXXXXX)
chmod 755 "$TMP"   # nginx workers (user nobody) read the bodies below it
RAW=$TMP/raw
mkdir -p "$RAW" "$TMP/www"
ensure_packages
build
[ "$PERF" = 0 ] || command -v perf >/dev/null || die "--perf: perf is not installed (apt-get install linux-perf)"

# ---- 2. upflowd on a fresh data directory with the shipped templates --------------------
DATA=$TMP/data
SETTINGS=(--set "workflow.templates_dir=$REPO/templates" --set "workflow.calendars_dir=$REPO/calendars")
PASSWORD="bench-$RANDOM-$RANDOM-$RANDOM"
"$UPFLOWD" -d "$DATA" "${SETTINGS[@]}" admin create-user --username bench_cs --role cs \
  --password-file - <<<"$PASSWORD" >/dev/null || die "create-user failed"
"$UPFLOWD" -d "$DATA" -l 127.0.0.1:0 --port-file "$TMP/port" "${SETTINGS[@]}" >"$TMP/upflowd.log" 2>&1 &
UPID=$!
PIDS+=("$UPID")
for _ in $(seq 1 300); do
  [ -s "$TMP/port" ] && break
  kill -0 "$UPID" 2>/dev/null || die "upflowd exited: $(tail -5 "$TMP/upflowd.log")"
  sleep 0.1
done
[ -s "$TMP/port" ] || die "upflowd did not start within 30 s"
PORT=$(cat "$TMP/port")
TOKEN=$(printf '%s\n' "$PASSWORD" | "${CLIENT[@]}" login --port "$PORT" --username bench_cs |
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
log "upflowd $("$UPFLOWD" --version | head -1) on 127.0.0.1:$PORT (pid $UPID)"

# ---- 3. seed N records through the API ---------------------------------------------------
log "seeding $RECORDS software-modification REQ records with $CLIENTS clients"
track "${CLIENT[@]}" seed --port "$PORT" --token "$TOKEN" --count "$RECORDS" --clients "$CLIENTS" \
  --server-pid "$UPID" --max-seconds "$SEED_MAX" >"$RAW/seed.json"
SEEDED=$(jget "$RAW/seed.json" ok)
FIRST_ID=$(jget "$RAW/seed.json" first_id)
LAST_ID=$(jget "$RAW/seed.json" last_id)
[ "$(jget "$RAW/seed.json" contiguous)" = True ] || die "seeded ids are not contiguous: $(cat "$RAW/seed.json")"
[ "$(jget "$RAW/seed.json" errors)" = 0 ] || die "seeding failed: $(jget "$RAW/seed.json" first_error)"
log "seeded $SEEDED records (ids $FIRST_ID-$LAST_ID) at $(jget "$RAW/seed.json" rate)/s"

# a copy of the same database for the sqlite3 peer, taken before any transition
sqlite3 "$DATA/upflow.db" ".backup '$TMP/peer.db'"
TPL_VERSION=$(sqlite3 "$TMP/peer.db" "SELECT MAX(version) FROM templates WHERE id = 'software-modification'")

# ---- 4. transitions: T02 once on each of the oldest half of the records -----------------
HALF_LAST=$((FIRST_ID + SEEDED / 2 - 1))
log "firing T02 on distinct records $FIRST_ID-$HALF_LAST for at most ${DURATION}s"
start_perf "$DURATION" "$TMP/perf-transitions.data"
track "${CLIENT[@]}" transitions --port "$PORT" --token "$TOKEN" --first-id "$FIRST_ID" \
  --last-id "$HALF_LAST" --clients "$CLIENTS" --seconds "$DURATION" --server-pid "$UPID" \
  >"$RAW/transitions.json"
finish_perf "$TMP/perf-transitions.data" "$RAW/perf-transitions.txt"
[ "$(jget "$RAW/transitions.json" errors)" = 0 ] || die "transitions failed: $(jget "$RAW/transitions.json" first_error)"
log "transitions: $(jget "$RAW/transitions.json" rate)/s"

# ---- 5. the sqlite3 peer: the same rows, raw, on the copy -------------------------------
peer() {  # $1 kind, $2 first id, $3 count
  "${CLIENT[@]}" peer-sql --kind "$1" --first-id "$2" --count "$3" --template-version "$TPL_VERSION" \
    >"$TMP/peer-$1.sql"
  local t0 t1
  t0=$(date +%s.%N)
  track timeout 600 sqlite3 "$TMP/peer.db" <"$TMP/peer-$1.sql" >/dev/null || die "sqlite3 peer ($1) failed"
  t1=$(date +%s.%N)
  "$PY" -c 'import json,sys; n=int(sys.argv[1]); s=float(sys.argv[3])-float(sys.argv[2]);
print(json.dumps({"ok": n, "seconds": round(s, 3), "rate": round(n / s, 1)}))' "$3" "$t0" "$t1" \
    >"$RAW/peer-$1.json"
}
PEER_N=$((SEEDED / 2 < 20000 ? SEEDED / 2 : 20000))
peer transition "$FIRST_ID" "$PEER_N"
moved=$(sqlite3 "$TMP/peer.db" "SELECT COUNT(*) FROM records WHERE state = 'RESOLVED_BY_CS'")
[ "$moved" = "$PEER_N" ] || die "sqlite3 peer moved $moved records, expected $PEER_N"
peer create "$((LAST_ID + 1))" "$PEER_N"
log "sqlite3 peer: $(jget "$RAW/peer-transition.json" rate) changes/s, $(jget "$RAW/peer-create.json" rate) creates/s"

# ---- 6. lists: upflowd against nginx serving the same bodies ----------------------------
DEEP_CURSOR=$((FIRST_ID + SEEDED / 10))
declare -A LIST_PATH=(
  [first]="/api/v1/records?limit=50"
  [deep]="/api/v1/records?limit=50&cursor=$DEEP_CURSOR"
  [state_dense]="/api/v1/records?limit=50&state=CS_TRIAGE"
  [state_sparse]="/api/v1/records?limit=50&state=RESOLVED_BY_CS"
)
VARIANTS=(first deep state_dense state_sparse)
for v in "${VARIANTS[@]}"; do
  "${CLIENT[@]}" get --port "$PORT" --token "$TOKEN" --path "${LIST_PATH[$v]}" --out "$TMP/www/$v.json" \
    >"$RAW/body-$v.json"
done
chmod 644 "$TMP"/www/*.json
chmod 755 "$TMP/www"

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
  types { application/json json; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
  }
}
EOF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' >"$TMP/nginx/logs/stdout.log" 2>&1 &
PIDS+=($!)
nginx_up=0
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; then nginx_up=1; break; fi
  sleep 0.1
done
[ $nginx_up = 1 ] || die "nginx did not start: $(cat "$TMP"/nginx/logs/*.log 2>/dev/null | tail -3)"

log "lists: ${#VARIANTS[@]} variants x $ROUNDS rounds x (upflowd, nginx), wrk $WRK_OPTS -d${DURATION}s"
for r in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    if [ "$r" = 1 ] && [ "$v" = first ]; then start_perf "$DURATION" "$TMP/perf-list.data"; fi
    run_wrk "$PORT" "${LIST_PATH[$v]}" "$RAW/list-$v-upflowd-$r.json" "$TOKEN"
    if [ "$r" = 1 ] && [ "$v" = first ]; then finish_perf "$TMP/perf-list.data" "$RAW/perf-list.txt"; fi
    run_wrk "$NGINX_PORT" "/$v.json" "$RAW/list-$v-nginx-$r.json" "$TOKEN"
    log "  round $r $v: upflowd $(jget "$RAW/list-$v-upflowd-$r.json" rps) req/s, nginx $(jget "$RAW/list-$v-nginx-$r.json" rps) req/s"
  done
done

# ---- 7. machine, versions, the report ----------------------------------------------------
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
src_state=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(cd "$REPO" && git status --porcelain -- src 2>/dev/null)" ]; then
  src_state="$src_state + uncommitted changes in src/"
fi
M_DATE=$(date -u +%Y-%m-%dT%H:%MZ) M_NPROC=$(nproc) \
M_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') \
M_MEMORY=$(free -g | awk '/^Mem:/ {print $2 " GiB"}') M_KERNEL=$(uname -r) \
M_OS=$(. /etc/os-release && echo "$PRETTY_NAME") \
M_UPFLOWD="$("$UPFLOWD" --version | head -1) ($BUILD_TYPE build of $src_state)" \
M_SQLITE="$(sqlite3 --version | cut -d' ' -f1) (CLI and libsqlite3-0 $(pkgver libsqlite3-0))" \
M_MHD=$(pkgver libmicrohttpd12) M_NGINX=$(nginx -v 2>&1 | cut -d/ -f2) M_WRK=$(pkgver wrk) \
M_PYTHON=$("$PY" --version | cut -d' ' -f2) \
M_RSS_KB=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$UPID/status") \
M_DB_BYTES=$(stat -c %s "$DATA/upflow.db") \
M_PATHS=$(for v in "${VARIANTS[@]}"; do printf '%s=%s\n' "$v" "${LIST_PATH[$v]}"; done) \
M_RECORDS=$SEEDED M_CLIENTS=$CLIENTS M_DURATION=$DURATION M_ROUNDS=$ROUNDS M_WRK_OPTS=$WRK_OPTS \
M_PEER_N=$PEER_N M_DEEP_CURSOR=$DEEP_CURSOR \
"$PY" -c 'import json, os, sys
m = {k[2:].lower(): v for k, v in os.environ.items() if k.startswith("M_")}
m["paths"] = dict(line.split("=", 1) for line in m["paths"].splitlines())
json.dump(m, open(sys.argv[1], "w"), indent=1)' "$RAW/machine.json"
mkdir -p "$(dirname "$OUT")"
"$PY" "$BENCH/workflow_report.py" "$RAW" >"$OUT"
cat "$OUT"
log "written to ${OUT#"$REPO/"}"
