#!/usr/bin/env bash
# Delta updates (issue #4): bytes a device fetches to go from image A to image B with upflow's
# chunk reuse (`upflow image plan`), against bsdiff, xdelta3 and zstd --patch-from measured in
# the same run on the same pair; creation time, and the device's peak RSS to apply each.
# The pair: two versions of a fixed list of Debian packages (the older and the newer version
# the archive offers, plus a package swapped), unpacked and tarred deterministically; with
# --ext4 the same content in two ext4 images too. See docs/benchmarks.md, "Delta updates".
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SIZE=small BUILD_DIR="" OUT="" EXT4=0 BSDIFF_TIMEOUT=900 CACHE="" KEEP=0

usage() {
  cat <<'EOF'
Usage: bench/delta.sh [OPTION]...
  --size small|full   package set: small (~60 MB tar) or full (~270 MB tar) (default small)
  --ext4              also measure the same content in two ext4 images (128 MiB small,
                      256 MiB full)
  --build-dir DIR     use the upflow already built in DIR (e.g. build/release)
  --bsdiff-timeout S  give bsdiff at most S seconds (default 900)
  --cache DIR         keep the downloaded .deb files in DIR and reuse them
  --keep              keep the temporary directory (printed at the end)
  --out FILE          results file (default bench/results/delta-YYYY-MM-DD-SIZE.md)
Installs bsdiff, xdelta3, zstd, e2fsprogs with apt when missing (as root). Needs Debian's
archive (apt-get download) for the packages; everything else is local.
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE=$2; shift 2 ;;
    --ext4) EXT4=1; shift ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --bsdiff-timeout) BSDIFF_TIMEOUT=$2; shift 2 ;;
    --cache) CACHE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "delta.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case $SIZE in small|full) ;; *) echo "delta.sh: --size small|full" >&2; exit 2 ;; esac
[ -n "$OUT" ] || OUT=$REPO/bench/results/delta-$(date -u +%Y-%m-%d)-$SIZE.md

log() { printf '[delta %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

TMP=$(mktemp -d /tmp/upflow-delta.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -- "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. tools and build -------------------------------------------------------------------
need_tools() {
  local missing=() p
  for p in bsdiff xdelta3 zstd e2fsprogs time python3; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install) or run as root"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "${missing[@]}" \
    >"$TMP/apt.log" 2>&1 || { tail -20 "$TMP/apt.log" >&2; die "apt-get install failed"; }
}
need_tools

if [ -n "$BUILD_DIR" ]; then
  UPFLOW=$(cd "$REPO" && realpath "$BUILD_DIR")/src/upflow
  [ -x "$UPFLOW" ] || die "no upflow in $BUILD_DIR/src"
else
  log "building Release in build/bench"
  { timeout 1200 cmake -S "$REPO" -B "$REPO/build/bench" -DCMAKE_BUILD_TYPE=Release &&
    timeout 1200 cmake --build "$REPO/build/bench" --target upflow -j"$(nproc)"; } \
    >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; die "build failed (or pass --build-dir build/release)"; }
  UPFLOW=$REPO/build/bench/src/upflow
fi

# ---- 2. the image pair --------------------------------------------------------------------
# Packages present in both versions; each takes the oldest version the archive lists in A and
# the newest in B (bookworm point release vs bookworm-updates/-security: real updates). A few
# have one version only and are identical in A and B, as on a real device. A_ONLY / B_ONLY:
# a package swapped for another between the two releases.
SMALL_PKGS="libc6 libc-bin libssl3 openssl libsystemd0 libudev1 liblzma5 xz-utils
  python3.11-minimal libpython3.11-minimal libcurl4 curl openssh-client libxml2 libexpat1
  mount libblkid1 libmount1 libuuid1 fdisk libssh2-1 libpng16-16 libsasl2-2 libpcre2-8-0 apt
  libapt-pkg6.0 gzip libzstd1 zlib1g libgssapi-krb5-2"
FULL_PKGS="$SMALL_PKGS coreutils bash tar perl-base sudo util-linux libgnutls30 libkrb5-3
  libgcrypt20 libstdc++6 systemd udev libperl5.36 perl-modules-5.36 libpython3.11-stdlib
  openssh-server tzdata ca-certificates bind9-libs libglib2.0-0 git iproute2 iptables dbus
  e2fsprogs libext2fs2 gnupg gpgv libsqlite3-0 libncursesw6 libtinfo6 libreadline8 libelf1
  libbpf1 python3.11"
if [ "$SIZE" = small ]; then PKGS=$SMALL_PKGS A_ONLY="nano" B_ONLY="less"; EXT4_SIZE=128M
else PKGS=$FULL_PKGS A_ONLY="nano busybox" B_ONLY="vim-tiny procps"; EXT4_SIZE=256M; fi

DEBS=${CACHE:-$TMP/debs}
mkdir -p "$DEBS" "$TMP/A" "$TMP/B"
: >"$TMP/versions.txt"
pick() {  # pick PKG old|new -> version
  local v best=""
  for v in $(apt-cache madison "$1" | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -u); do
    if [ -z "$best" ]; then best=$v
    elif [ "$2" = old ] && dpkg --compare-versions "$v" lt "$best"; then best=$v
    elif [ "$2" = new ] && dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  [ -n "$best" ] || die "no version of $1 in the archive (apt-get update?)"
  echo "$best"
}
fetch() {  # fetch PKG VERSION SIDE
  local f
  local base="$DEBS/${1}_${2/:/%3a}_"  # apt-get download writes the epoch's ':' as %3a
  f=$(ls "$base"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    (cd "$DEBS" && timeout 300 apt-get download -q "$1=$2" >>"$TMP/download.log" 2>&1) ||
      { tail -5 "$TMP/download.log" >&2; die "apt-get download $1=$2 failed"; }
    f=$(ls "$base"*.deb | head -1)
  fi
  dpkg-deb -x "$f" "$TMP/$3"
  echo "$3 $1 $2 $(stat -c %s "$f")" >>"$TMP/versions.txt"
}
log "downloading and unpacking $(echo $PKGS $A_ONLY $B_ONLY | wc -w) packages ($SIZE)"
CHANGED=0 TOTAL=0
for p in $PKGS; do
  o=$(pick "$p" old) n=$(pick "$p" new)
  fetch "$p" "$o" A; fetch "$p" "$n" B
  TOTAL=$((TOTAL + 1)); [ "$o" = "$n" ] || CHANGED=$((CHANGED + 1))
done
for p in $A_ONLY; do fetch "$p" "$(pick "$p" new)" A; done
for p in $B_ONLY; do fetch "$p" "$(pick "$p" new)" B; done

D=$TMP/pair
mkdir -p "$D"
for s in A B; do
  tar -C "$TMP/$s" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf "$D/$s.tar" .
done
KINDS="tar"
if [ "$EXT4" = 1 ]; then
  for s in A B; do
    E2FSPROGS_FAKE_TIME=1 mke2fs -q -F -t ext4 -b 4096 -L upflow -U 0b5e5e5e-4a4a-4b4b-8c8c-0d0d0d0d0d0d \
      -E hash_seed=0b5e5e5e-1111-4222-8333-0d0d0d0d0d0d,root_owner=0:0 -d "$TMP/$s" \
      "$D/$s.ext4" "$EXT4_SIZE" >>"$TMP/mke2fs.log" 2>&1 || { cat "$TMP/mke2fs.log" >&2; die "mke2fs failed"; }
  done
  KINDS="tar ext4"
fi
log "pair: A.tar $(stat -c %s "$D/A.tar") B, B.tar $(stat -c %s "$D/B.tar") B; $CHANGED of $TOTAL packages updated, ${A_ONLY} -> ${B_ONLY}"

# ---- 3. measurements ----------------------------------------------------------------------
# m LABEL CMD...: runs CMD under /usr/bin/time, appends "LABEL seconds peak_kB rc" to $RES.
RES=$TMP/results.txt
: >"$RES"
m() {
  local label=$1 rc=0; shift
  /usr/bin/time -f '%e %M' -o "$TMP/time.out" "$@" >"$TMP/cmd.out" 2>"$TMP/cmd.err" || rc=$?
  echo "$label $(tail -1 "$TMP/time.out" | awk '{print $1, $2}') $rc" >>"$RES"
  return $rc
}
size() { stat -c %s "$1"; }
put() { echo "$1 $2" >>"$TMP/values.txt"; }  # put KEY VALUE
: >"$TMP/values.txt"

for k in $KINDS; do
  A=$D/A.$k B=$D/B.$k W=$TMP/w-$k
  mkdir -p "$W"
  put "$k.a_size" "$(size "$A")"; put "$k.b_size" "$(size "$B")"
  log "$k: upflow image create A, B (level 19, $(nproc) threads)"
  m "$k.upflow_create_a" "$UPFLOW" image create -i "$W/A.idx" -p "$W/A.pay" "$A" || die "create A failed: $(cat "$TMP/cmd.err")"
  m "$k.upflow.create" "$UPFLOW" image create -i "$W/B.idx" -p "$W/B.pay" "$B" || die "create B failed: $(cat "$TMP/cmd.err")"
  "$UPFLOW" image plan --json "$W/B.idx" "$W/A.idx" >"$W/plan.json" || die "plan failed"
  python3 - "$W/plan.json" "$W/B.pay" "$W/B.sparse" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
src, dst = open(sys.argv[2], "rb"), open(sys.argv[3], "wb")
dst.truncate(plan["full_payload_bytes"])
for r in plan["fetch"]:
    src.seek(r["payload_offset"]); dst.seek(r["payload_offset"])
    dst.write(src.read(r["payload_length"]))
PY
  put "$k.upflow.bytes" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["fetch_bytes"])' "$W/plan.json")"
  put "$k.upflow.index" "$(size "$W/B.idx")"
  put "$k.upflow.chunks" "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["fetch_chunks"], "of", d["chunk_count"])' "$W/plan.json")"
  put "$k.upflowfull.bytes" "$(size "$W/B.pay")"
  log "$k: upflow apply (delta, then full)"
  rm -f "$W/out"
  m "$k.upflow.apply" "$UPFLOW" image extract --old-image "$A" --old-index "$W/A.idx" "$W/B.idx" "$W/B.sparse" "$W/out" &&
    cmp -s "$B" "$W/out" && put "$k.upflow.ok" yes || put "$k.upflow.ok" NO
  rm -f "$W/out"
  m "$k.upflowfull.apply" "$UPFLOW" image extract "$W/B.idx" "$W/B.pay" "$W/out" &&
    cmp -s "$B" "$W/out" && put "$k.upflowfull.ok" yes || put "$k.upflowfull.ok" NO
  rm -f "$W/out" "$W/B.sparse"

  log "$k: zstd -19 --long=27 (full, no delta)"
  m "$k.zstdfull.create" zstd -q -f -19 --long=27 -T1 "$B" -o "$W/B.zst" || true
  put "$k.zstdfull.bytes" "$(size "$W/B.zst")"
  m "$k.zstdfull.apply" zstd -q -f -d --long=27 "$W/B.zst" -o "$W/out" &&
    cmp -s "$B" "$W/out" && put "$k.zstdfull.ok" yes || put "$k.zstdfull.ok" NO
  rm -f "$W/out" "$W/B.zst"

  log "$k: zstd -19 --long=27 --patch-from"
  if m "$k.zstd.create" zstd -q -f -19 --long=27 -T1 --patch-from="$A" "$B" -o "$W/p.zst"; then
    put "$k.zstd.bytes" "$(size "$W/p.zst")"
    m "$k.zstd.apply" zstd -q -f -d --long=31 --patch-from="$A" "$W/p.zst" -o "$W/out" &&
      cmp -s "$B" "$W/out" && put "$k.zstd.ok" yes || put "$k.zstd.ok" NO
  else put "$k.zstd.bytes" "failed: $(head -c 120 "$TMP/cmd.err" | tr '\n|' '  ')"; fi
  rm -f "$W/out" "$W/p.zst"

  log "$k: xdelta3 -9"
  if m "$k.xdelta3.create" xdelta3 -9 -e -f -s "$A" "$B" "$W/p.xd3"; then
    put "$k.xdelta3.bytes" "$(size "$W/p.xd3")"
    m "$k.xdelta3.apply" xdelta3 -d -f -s "$A" "$W/p.xd3" "$W/out" &&
      cmp -s "$B" "$W/out" && put "$k.xdelta3.ok" yes || put "$k.xdelta3.ok" NO
  else put "$k.xdelta3.bytes" "failed"; fi
  rm -f "$W/out" "$W/p.xd3"

  log "$k: bsdiff (at most ${BSDIFF_TIMEOUT} s)"
  rc=0; m "$k.bsdiff.create" timeout "$BSDIFF_TIMEOUT" bsdiff "$A" "$B" "$W/p.bsd" || rc=$?
  if [ $rc -eq 0 ]; then
    put "$k.bsdiff.bytes" "$(size "$W/p.bsd")"
    m "$k.bsdiff.apply" bspatch "$A" "$W/out" "$W/p.bsd" &&
      cmp -s "$B" "$W/out" && put "$k.bsdiff.ok" yes || put "$k.bsdiff.ok" NO
  elif [ $rc -eq 124 ]; then put "$k.bsdiff.bytes" "did not finish in ${BSDIFF_TIMEOUT} s"
  else put "$k.bsdiff.bytes" "failed (rc $rc)"; fi
  rm -f "$W/out" "$W/p.bsd"
  rm -rf "$W"
done

# ---- 4. machine, versions, report ---------------------------------------------------------
{
  echo "nproc $(nproc)"
  echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel $(uname -r)"
  echo "upflow $("$UPFLOW" --version 2>/dev/null | head -1 || echo unknown) ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty'))"
  echo "bsdiff $(dpkg-query -W -f '${Version}' bsdiff)"
  echo "xdelta3 $(dpkg-query -W -f '${Version}' xdelta3)"
  echo "zstd $(zstd --version | sed 's/.* v\([0-9.]*\).*/\1/')"
  echo "e2fsprogs $(dpkg-query -W -f '${Version}' e2fsprogs)"
} >"$TMP/machine.txt"

mkdir -p "$(dirname "$OUT")"
python3 - "$RES" "$TMP/values.txt" "$TMP/machine.txt" "$TMP/versions.txt" "$OUT" \
  "$SIZE" "$KINDS" "$CHANGED" "$TOTAL" "$A_ONLY" "$B_ONLY" "$BSDIFF_TIMEOUT" "$EXT4_SIZE" <<'PY'
import sys, datetime
res_f, val_f, mach_f, ver_f, out, size, kinds, changed, total, a_only, b_only, bto, e4 = sys.argv[1:]
runs = {}
for line in open(res_f):
    p = line.split()
    runs[p[0]] = (float(p[1]), int(p[2]), int(p[3]))
vals = {}
for line in open(val_f):
    k, _, v = line.rstrip("\n").partition(" ")
    vals[k] = v
mach = [l.rstrip("\n").split(" ", 1) for l in open(mach_f)]
def mb(n): return f"{int(n) / 1e6:.2f} MB"
def mib(kb): return f"{kb / 1024:.0f} MiB" if kb >= 10240 else f"{kb / 1024:.1f} MiB"
def isnum(s): return s.isdigit()
tools = [
    ("upflow", "upflow chunk reuse (`image plan`: ranges to fetch)", "`image extract --old-image`"),
    ("upflowfull", "upflow full payload (no delta)", "`image extract`"),
    ("zstdfull", "`zstd -19 --long=27` (full, no delta)", "`zstd -d`"),
    ("zstd", "`zstd -19 --long=27 --patch-from=A`", "`zstd -d --patch-from`"),
    ("xdelta3", "`xdelta3 -9 -e -s A`", "`xdelta3 -d -s A`"),
    ("bsdiff", "`bsdiff A B`", "`bspatch`"),
]
lines = []
lines.append(f"# Delta updates: {size} pair, {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC\n")
lines.append(f"Command: `bench/delta.sh --size {size}{' --ext4' if 'ext4' in kinds else ''}`. "
             f"Pair: {total} Debian packages, {changed} of them at a newer version in B "
             f"(oldest vs newest version the archive lists), plus `{a_only}` in A only and "
             f"`{b_only}` in B only; unpacked and tarred deterministically"
             + (f"; the same content in two {e4} ext4 images (fixed UUID and hash seed)" if "ext4" in kinds else "")
             + ". One round: byte counts are deterministic, times are one sample on a shared machine.\n")
for k in kinds.split():
    up = vals.get(f"{k}.upflow.bytes")
    lines.append(f"\n## {k}: A {mb(vals[k+'.a_size'])}, B {mb(vals[k+'.b_size'])}\n")
    lines.append(f"upflow: {vals.get(k+'.upflow.chunks')} chunks fetched; B's index {mb(vals[k+'.upflow.index'])} "
                 "(fetched too, not counted below).\n")
    lines.append("| Method | bytes to download | upflow delta / this | create s / peak RSS | apply (device) s / peak RSS | apply == B |")
    lines.append("|---|---:|---:|---:|---:|:-:|")
    for key, name, app in tools:
        b = vals.get(f"{k}.{key}.bytes", "not run")
        c = runs.get(f"{k}.{key}.create"); a = runs.get(f"{k}.{key}.apply")
        ratio = f"{int(up) / int(b):.2f}×" if isnum(b) and up and isnum(up) else "–"
        if key == "upflow": ratio = "1"
        cs = f"{c[0]:.1f} s / {mib(c[1])}" if c and c[2] == 0 else ("–" if not c else f"{c[0]:.0f} s (rc {c[2]})")
        if key.startswith("upflow") and c: cs += f" (B only; A: {runs[k+'.upflow_create_a'][0]:.1f} s)" if key == "upflow" else ""
        if key == "upflowfull": cs = "same payload"
        as_ = f"{a[0]:.1f} s / {mib(a[1])}" if a else "–"
        bs = mb(b) if isnum(b) else b
        lines.append(f"| {name} | {bs} | {ratio} | {cs} | {as_} ({app}) | {vals.get(f'{k}.{key}.ok', '–')} |")
lines.append("\n## Machine and versions\n")
for k, v in mach: lines.append(f"- {k}: {v}")
lines.append("\n## Packages (side, name, version, .deb bytes)\n")
lines.append("```")
lines += [l.rstrip("\n") for l in open(ver_f)]
lines.append("```")
open(out, "w").write("\n".join(lines) + "\n")
PY
cat "$OUT"
log "wrote $OUT"
