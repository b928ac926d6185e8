#!/usr/bin/env bash
# Device agent (issue #5): upflow-agent's binary size (against swupdate's, Debian's package),
# its peak RSS while installing a 256 MiB and a 2 GiB image (it must not grow with the image),
# its install throughput and CPU seconds against `dd` writing the same bytes to the same kind
# of target (a slot file in the same directory) in the same run: `dd bs=1M conv=fdatasync`,
# and `dd bs=4M oflag=dsync`, which syncs as often as the agent does.
# One command: builds build/bench (Release), starts upflowd on loopback with a temporary data
# directory, builds a TUF repository with the CLI, installs each image on a fresh simulated
# device (file slots, the sim bootloader, as tests/integration/test_agent.py's Device) from
# upflowd over HTTP and from a copy of the repository (`--repo DIR`), and times dd between.
# Writes bench/results/agent-DATE.md. See docs/benchmarks.md, "Device agent".
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SIZES="256 2048" ROUNDS=3 BUILD_DIR="" OUT="" KEEP=0 DIR_REPO=1 MIN_FREE_GIB=8

usage() {
  cat <<'EOF'
Usage: bench/agent.sh [OPTION]...
  --sizes "MIB..."    image sizes in MiB, multiples of 16 (default "256 2048")
  --rounds N          installs (and dd runs) per image (default 3)
  --no-dir-repo       skip the install from a local copy of the repository (--repo DIR)
  --build-dir DIR     use upflow, upflowd and upflow-agent already built in DIR (Release)
  --keep              keep the temporary directory (printed at the end)
  --out FILE          results file (default bench/results/agent-YYYY-MM-DD.md)
Installs `time` and `swupdate` (binary-size peer only, never run) with apt when missing (as
root). Needs about 8 GiB free under /tmp for the 2 GiB image: with less, images over 256 MiB
are skipped and the result says so. Everything runs on 127.0.0.1 and local files.
EOF
}

ARGS=""
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) SIZES=$2; ARGS="$ARGS --sizes \"$2\""; shift 2 ;;
    --rounds) ROUNDS=$2; ARGS="$ARGS --rounds $2"; shift 2 ;;
    --no-dir-repo) DIR_REPO=0; ARGS="$ARGS --no-dir-repo"; shift ;;
    --build-dir) BUILD_DIR=$2; ARGS="$ARGS --build-dir $2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "agent.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT=$REPO/bench/results/agent-$(date -u +%Y-%m-%d).md
HELPER=$REPO/bench/agent_bench.py

log() { printf '[agent %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

TMP=$(mktemp -d /tmp/upflow-agent-bench.XXXXXX)
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
  for p in time python3 binutils swupdate; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    # swupdate is only the size peer: without it the table says so
    [ "${missing[*]}" = swupdate ] && { log "swupdate missing (not root): no size peer"; return; }
    die "missing ${missing[*]}: install them (apt-get install) or run as root"
  fi
  log "installing ${missing[*]}"
  # swupdate's postinst may try to start its service: keep it from doing so
  printf '#!/bin/sh\nexit 101\n' >"$TMP/policy-rc.d"
  local had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ $had_policy = 1 ] || install -m 755 "$TMP/policy-rc.d" /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >"$TMP/apt.log" 2>&1 || {
      [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
      tail -20 "$TMP/apt.log" >&2; die "apt-get install failed"; }
  [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
}
need_tools

if [ -n "$BUILD_DIR" ]; then
  BIN=$(cd "$REPO" && realpath "$BUILD_DIR")/src
else
  log "building Release in build/bench"
  { timeout 1200 cmake -S "$REPO" -B "$REPO/build/bench" -DCMAKE_BUILD_TYPE=Release &&
    timeout 1200 cmake --build "$REPO/build/bench" --target upflow upflowd upflow-agent -j"$(nproc)"; } \
    >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; die "build failed (or pass --build-dir)"; }
  BIN=$REPO/build/bench/src
fi
UPFLOW=$BIN/upflow UPFLOWD=$BIN/upflowd AGENT=$BIN/upflow-agent
for b in "$UPFLOW" "$UPFLOWD" "$AGENT"; do [ -x "$b" ] || die "no $b"; done

RUNS=$TMP/runs.txt VALUES=$TMP/values.txt
: >"$RUNS"; : >"$VALUES"
put() { echo "$1 $2" >>"$VALUES"; }  # put KEY VALUE
put args "$ARGS"
# m LABEL ROUND CMD...: runs CMD under /usr/bin/time after a sync (so no earlier write-back
# lands in the measurement); appends "LABEL ROUND wall_s peak_KiB user_s sys_s rc" to $RUNS.
m() {
  local label=$1 round=$2 rc=0; shift 2
  sync
  /usr/bin/time -f '%e %M %U %S' -o "$TMP/time.out" "$@" >"$TMP/cmd.out" 2>"$TMP/cmd.err" || rc=$?
  echo "$label $round $(tail -1 "$TMP/time.out") $rc" >>"$RUNS"
  return $rc
}

# ---- 2. binary sizes ----------------------------------------------------------------------
binsize() {  # binsize KEY PATH
  strip -o "$TMP/stripped" "$2"
  put "$1.size" "$(stat -c %s "$2")"
  put "$1.stripped" "$(stat -c %s "$TMP/stripped")"
  put "$1.needed" "$(readelf -d "$2" | grep -c '(NEEDED)')"
  put "$1.ldd" "$(ldd "$2" | grep -vc 'linux-vdso')"
  rm -f "$TMP/stripped"
}
binsize agent "$AGENT"
put agent.version "$("$AGENT" --version | head -1 | awk '{print $NF}')"
if [ -x /usr/bin/swupdate ]; then
  binsize swupdate /usr/bin/swupdate
  put swupdate.version "$(dpkg-query -W -f '${Version}' swupdate)"
else
  put swupdate.missing "not installed"
fi

# ---- 3. space -----------------------------------------------------------------------------
FREE_KIB=$(df -Pk "$TMP" | awk 'NR==2 {print $4}')
log "$((FREE_KIB / 1048576)) GiB free under $TMP"
KEPT_SIZES=""
for s in $SIZES; do
  [ $((s % 16)) -eq 0 ] || die "--sizes: $s is not a multiple of 16"
  if [ "$s" -gt 256 ] && [ "$FREE_KIB" -lt $((MIN_FREE_GIB * 1048576)) ]; then
    msg="The $s MiB image was skipped: $((FREE_KIB / 1048576)) GiB free under /tmp, the run needs $MIN_FREE_GIB GiB."
    log "$msg"; put skipped "$msg"
  else
    KEPT_SIZES="$KEPT_SIZES $s"
  fi
done
put sizes "$KEPT_SIZES"
[ -n "$KEPT_SIZES" ] || die "no image size left to measure"

# ---- 4. server, user, repository ----------------------------------------------------------
PASSWORD_FILE=$TMP/password
echo "bench agent password" >"$PASSWORD_FILE"
DATA=$TMP/server
SETTINGS=(--set auth.scrypt_log2_n=10 --set "workflow.templates_dir=$REPO/templates"
          --set "workflow.calendars_dir=$REPO/calendars")
"$UPFLOWD" -d "$DATA" "${SETTINGS[@]}" admin create-user --username rm --password-file - \
  --role release_manager <"$PASSWORD_FILE" >"$TMP/admin.log" 2>&1 || { cat "$TMP/admin.log" >&2; die "create-user failed"; }
"$UPFLOWD" -d "$DATA" -l 127.0.0.1:0 --port-file "$TMP/port" "${SETTINGS[@]}" >"$TMP/upflowd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$TMP/port" ] && break; sleep 0.1; done
[ -s "$TMP/port" ] || { cat "$TMP/upflowd.log" >&2; die "upflowd did not start"; }
URL=http://127.0.0.1:$(cat "$TMP/port")
export UPFLOW_SERVER=$URL
UPFLOW_TOKEN=$(python3 "$HELPER" login "$URL" rm "$PASSWORD_FILE") || die "login failed"
export UPFLOW_TOKEN HOME=$TMP
WS=$TMP/ws
cli() { "$UPFLOW" "$@" >"$TMP/cli.out" 2>"$TMP/cli.err" || { cat "$TMP/cli.err" >&2; die "upflow $*: failed"; }; }
cli repo init --dir "$WS" --root-keys 1 --root-threshold 1
ROOT_JSON=$WS/metadata/1.root.json
log "upflowd at $URL, repository initialised"

# ---- 5. a simulated device (tests/integration/test_agent.py, class Device) -----------------
SLOT_SIZE=0
head -c 1M /dev/urandom >"$TMP/factory.img"
device() {  # device DIR REPO_URL: two file slots, the sim bootloader, provisioned and powered on
  local d=$1
  mkdir -p "$d"
  cp "$TMP/factory.img" "$d/slot-a.img"; truncate -s "$SLOT_SIZE" "$d/slot-a.img"
  truncate -s "$SLOT_SIZE" "$d/slot-b.img"
  cp "$ROOT_JSON" "$d/root.json"
  cat >"$d/agent.conf" <<EOF
[device]
id = dev-1
hardware = rev2
version = 1.0.0
data_dir = $d/data
[repository]
url = $2
root = $d/root.json
[slots]
A = $d/slot-a.img
B = $d/slot-b.img
size = $SLOT_SIZE
[bootloader]
backend = sim
path = $d/boot.env
[health]
monitoring_time = 5
command = true
[retry]
attempts = 4
backoff = 0
backoff_max = 0
EOF
  "$AGENT" -c "$d/agent.conf" provision A >"$TMP/dev.log" 2>&1 || { cat "$TMP/dev.log" >&2; die "provision failed"; }
  "$AGENT" -c "$d/agent.conf" simulate-power-on >"$TMP/dev.log" 2>&1 || { cat "$TMP/dev.log" >&2; die "power-on failed"; }
}

# agent_install LABEL ROUND DEVICE_DIR IMAGE RELEASE [--repo DIR]: measured; exit 3 (reboot needed)
# is success; then slot B must hold the image.
agent_install() {
  local label=$1 round=$2 d=$3 img=$4 rel=$5 rc=0; shift 5
  m "$label" "$round" timeout 3600 "$AGENT" -c "$d/agent.conf" install "$@" "$rel" || rc=$?
  [ $rc -eq 3 ] || { tail -20 "$TMP/cmd.err" >&2; die "$label round $round: upflow-agent install exited $rc, expected 3"; }
  cmp -s -n "$(stat -c %s "$img")" "$img" "$d/slot-b.img" || die "$label round $round: slot B does not hold the image"
}

# ---- 6. per image: make, chunk, release, push, install, dd --------------------------------
for s in $KEPT_SIZES; do
  IMG=$TMP/image-$s.img
  BYTES=$((s * 1048576))
  SLOT_SIZE=$((BYTES + 64 * 1048576))
  VERSION=2.$s.0
  REL=bench/$VERSION/rootfs.upfidx
  log "$s MiB: making the image (1/2 random, 1/4 this machine's programs and libraries, 1/4 zeros)"
  python3 "$HELPER" image "$IMG" "$s"
  log "$s MiB: upflow image create --level 3 ($(nproc) threads)"
  m "$s.create" 1 "$UPFLOW" image create --level 3 -i "$TMP/rootfs.upfidx" -p "$TMP/rootfs.upfpay" "$IMG" ||
    { cat "$TMP/cmd.err" >&2; die "image create failed"; }
  put "$s.payload" "$(stat -c %s "$TMP/rootfs.upfpay")"
  put "$s.index" "$(stat -c %s "$TMP/rootfs.upfidx")"
  put "$s.chunks" "$("$UPFLOW" image inspect "$TMP/rootfs.upfidx" | awk '/^chunks:/ {print $2}')"
  log "$s MiB: release add, repo push"
  cli release add --dir "$WS" "$TMP/rootfs.upfidx" --product bench --version "$VERSION" --name rootfs
  cli repo push --dir "$WS"
  rm -f "$TMP/rootfs.upfidx" "$TMP/rootfs.upfpay"
  if [ "$DIR_REPO" = 1 ]; then
    rm -rf "$TMP/media"
    python3 "$HELPER" copy-repo "$URL" "$TMP/media" || die "copying the repository failed"
  fi
  for r in $(seq "$ROUNDS"); do
    log "$s MiB round $r: upflow-agent install over HTTP"
    D=$TMP/dev-http
    device "$D" "$URL/tuf/default"
    agent_install "$s.agent_http" "$r" "$D" "$IMG" "$REL"
    [ "$r" != 1 ] || put "$s.agent_http.phases" "$(python3 "$HELPER" phases "$D/data/events.jsonl")"
    rm -rf "$D"

    log "$s MiB round $r: dd, dd synced every 4 MiB"
    SLOT=$TMP/dd-slot.img
    rm -f "$SLOT"; truncate -s "$SLOT_SIZE" "$SLOT"
    m "$s.dd" "$r" dd if="$IMG" of="$SLOT" bs=1M conv=fdatasync,notrunc || { cat "$TMP/cmd.err" >&2; die "dd failed"; }
    rm -f "$SLOT"; truncate -s "$SLOT_SIZE" "$SLOT"
    # the agent syncs the slot every 4 MiB (and its journal): dd with the same cadence
    m "$s.dd_sync" "$r" dd if="$IMG" of="$SLOT" bs=4M oflag=dsync conv=notrunc || { cat "$TMP/cmd.err" >&2; die "dd failed"; }
    rm -f "$SLOT"

    if [ "$DIR_REPO" = 1 ]; then
      log "$s MiB round $r: upflow-agent install --repo DIR"
      D=$TMP/dev-dir
      device "$D" "file://$TMP/media"
      agent_install "$s.agent_dir" "$r" "$D" "$IMG" "$REL" --repo "$TMP/media"
      [ "$r" != 1 ] || put "$s.agent_dir.phases" "$(python3 "$HELPER" phases "$D/data/events.jsonl")"
      rm -rf "$D"
    fi
  done
  rm -rf "$IMG" "$TMP/media"
done

# ---- 7. machine, versions, report ---------------------------------------------------------
{
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "filesystem (slots, images, server data): $(df -PT "$TMP" | awk 'NR==2 {print $2}') ($(findmnt -no SOURCE -T "$TMP" 2>/dev/null || echo '?'))"
  echo "upflow: $("$UPFLOW" --version | head -1 | awk '{print $NF}') ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo ' plus uncommitted src/ changes'))"
  echo "compiler: $(cc --version | head -1)"
  echo "libcurl: $(dpkg-query -W -f '${Version}' libcurl4 2>/dev/null || echo ?), libzstd $(dpkg-query -W -f '${Version}' libzstd1), OpenSSL $(dpkg-query -W -f '${Version}' libssl3)"
  echo "dd coreutils: $(dpkg-query -W -f '${Version}' coreutils)"
  echo "swupdate: $(dpkg-query -W -f '${Version}' swupdate 2>/dev/null || echo 'not installed')"
} >"$TMP/machine.txt"

mkdir -p "$(dirname "$OUT")"
python3 "$HELPER" report "$RUNS" "$VALUES" "$TMP/machine.txt" "$OUT"
log "wrote $OUT"
