#!/usr/bin/env bash
# `upflow image` as a release pipeline runs it: create, inspect, verify, extract (the output
# is compared with the input byte for byte) and plan, on a 0-byte and a ~20 MB image; a
# flipped bit in the payload and a truncated index are failures (exit 1), usage errors exit 2.
# Usage: test_image.sh UPFLOW
set -uo pipefail
upflow=$1
. "$(dirname "$0")/testlib.sh"

# A 0-byte image.
: >"$tmp/empty.img"
run "$upflow" image create "$tmp/empty.img"
check "create empty exits 0 ($err)" [ "$rc" -eq 0 ]
check "create empty: 0 chunks" grep -q '^chunks: *0 ' "$tmp/out"
check "empty index is a bare header" [ "$(stat -c %s "$tmp/empty.img.upfidx")" -eq 128 ]
run "$upflow" image verify "$tmp/empty.img.upfidx" "$tmp/empty.img.upfpay"
check "verify empty exits 0 ($err)" [ "$rc" -eq 0 ]
run "$upflow" image extract "$tmp/empty.img.upfidx" "$tmp/empty.img.upfpay" "$tmp/empty.out"
check "extract empty exits 0 ($err)" [ "$rc" -eq 0 ]
check "extract empty gives 0 bytes" cmp -s "$tmp/empty.img" "$tmp/empty.out"

# ~20 MB: random, compressible text, random again.
# pseudo-random but the same on every run (AES-CTR over zeros), so the chunk boundaries and
# every ratio checked below are reproducible
prng() { # SEED BYTES
  head -c "$2" /dev/zero | openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$1")" -iv 0
}
prng 1 8000000 >"$tmp/v1.img"
seq 1 800000 >>"$tmp/v1.img"
prng 2 6000000 >>"$tmp/v1.img"
run "$upflow" image create --level 3 --index "$tmp/v1.idx" --payload "$tmp/v1.pay" "$tmp/v1.img"
check "create exits 0 ($err)" [ "$rc" -eq 0 ]
check "create prints the image SHA-256" \
  grep -q "^sha256: *$(sha256sum "$tmp/v1.img" | cut -d' ' -f1)\$" "$tmp/out"
run "$upflow" image inspect "$tmp/v1.idx"
check "inspect exits 0 ($err)" [ "$rc" -eq 0 ]
check "inspect names the size" grep -q "^image: *$(stat -c %s "$tmp/v1.img") bytes" "$tmp/out"
run "$upflow" image inspect --json "$tmp/v1.idx"
check "inspect --json exits 0" [ "$rc" -eq 0 ]
check "inspect --json lists every chunk" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["chunk_count"] == len(d["chunks"]) > 100
assert sum(c["length"] for c in d["chunks"]) == d["image_size"]' "$tmp/out"
run "$upflow" image verify "$tmp/v1.idx" "$tmp/v1.pay"
check "verify exits 0 ($err)" [ "$rc" -eq 0 ]
run "$upflow" image extract "$tmp/v1.idx" "$tmp/v1.pay" "$tmp/v1.out"
check "extract exits 0 ($err)" [ "$rc" -eq 0 ]
check "extract rebuilds the image" cmp -s "$tmp/v1.img" "$tmp/v1.out"

# A new version: 100 bytes inserted near the start, a changed block in the middle.
{ head -c 5000 "$tmp/v1.img"; prng 3 100; tail -c +5001 "$tmp/v1.img"; } \
  >"$tmp/v2.img"
printf 'patched' | dd of="$tmp/v2.img" bs=1 seek=10000000 conv=notrunc status=none
run "$upflow" image create --level 3 -i "$tmp/v2.idx" -p "$tmp/v2.pay" --threads 1 "$tmp/v2.img"
check "create v2 exits 0" [ "$rc" -eq 0 ]
run "$upflow" image plan --json "$tmp/v2.idx" "$tmp/v1.idx"
check "plan exits 0 ($err)" [ "$rc" -eq 0 ]
check "plan fetches under 5% of the payload" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert 0 < d["fetch_bytes"] < d["full_payload_bytes"] / 20, d
assert d["fetch_chunks"] + d["copy_chunks"] == d["chunk_count"]' "$tmp/out"
run "$upflow" image plan "$tmp/v2.idx" "$tmp/v1.idx"
check "plan prints byte ranges" grep -q '^range: *bytes=[0-9]*-[0-9]*' "$tmp/out"
# A device's delta update: only the planned ranges of the payload (the rest left as holes),
# the other chunks copied from the old image.
"$upflow" image plan --json "$tmp/v2.idx" "$tmp/v1.idx" >"$tmp/plan.json"
python3 - "$tmp/plan.json" "$tmp/v2.pay" "$tmp/v2.sparse" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
src, dst = open(sys.argv[2], "rb"), open(sys.argv[3], "wb")
dst.truncate(plan["full_payload_bytes"])
for r in plan["fetch"]:
    src.seek(r["payload_offset"]); dst.seek(r["payload_offset"])
    dst.write(src.read(r["payload_length"]))
PY
run "$upflow" image extract --old-image "$tmp/v1.img" --old-index "$tmp/v1.idx" \
  "$tmp/v2.idx" "$tmp/v2.sparse" "$tmp/v2.out"
check "delta extract exits 0 ($err)" [ "$rc" -eq 0 ]
check "delta extract rebuilds v2" cmp -s "$tmp/v2.img" "$tmp/v2.out"
run "$upflow" image extract "$tmp/v2.idx" "$tmp/v2.sparse" "$tmp/v2.full"
check "the sparse payload alone is not enough" [ "$rc" -eq 1 ]
run "$upflow" image extract --old-image "$tmp/v1.img" "$tmp/v2.idx" "$tmp/v2.pay" "$tmp/x"
check "--old-image without --old-index exits 2" [ "$rc" -eq 2 ]

# Failures: a flipped bit, a truncated index, a missing file. None of them leaves an OUT.
cp "$tmp/v1.pay" "$tmp/bad.pay"
printf '\x55' | dd of="$tmp/bad.pay" bs=1 seek=3000000 conv=notrunc status=none
run "$upflow" image verify "$tmp/v1.idx" "$tmp/bad.pay"
check "verify of a corrupted payload exits 1" [ "$rc" -eq 1 ]
check "verify names the chunk" grep -q 'chunk [0-9]* (offset [0-9]*, [0-9]* bytes)' "$tmp/err"
run "$upflow" image extract "$tmp/v1.idx" "$tmp/bad.pay" "$tmp/bad.out"
check "extract of a corrupted payload exits 1" [ "$rc" -eq 1 ]
check "extract leaves no output" [ ! -e "$tmp/bad.out" ] && [ ! -e "$tmp/bad.out.tmp" ]
head -c 1000 "$tmp/v1.idx" >"$tmp/short.idx"
run "$upflow" image inspect "$tmp/short.idx"
check "truncated index exits 1" [ "$rc" -eq 1 ]
run "$upflow" image verify "$tmp/nothing.idx" "$tmp/v1.pay"
check "missing index exits 1" [ "$rc" -eq 1 ]

# Usage errors.
run "$upflow" image create
check "create without IMAGE exits 2" [ "$rc" -eq 2 ]
run "$upflow" image create --avg 1000 "$tmp/v1.img"
check "avg not a power of two exits 2" [ "$rc" -eq 2 ]
run "$upflow" image create --level 30 "$tmp/v1.img"
check "level 30 exits 2" [ "$rc" -eq 2 ]
run "$upflow" image verify "$tmp/v1.idx"
check "verify with one argument exits 2" [ "$rc" -eq 2 ]
run "$upflow" image frobnicate
check "unknown subcommand exits 2" [ "$rc" -eq 2 ]
run "$upflow" image --help
check "image --help exits 0" [ "$rc" -eq 0 ]

# Opt-in (UPFLOW_BIG_IMAGE_TEST=1): a 3 GiB image, 1 MiB of random bytes then 3 MiB of
# zeros, over and over, at the default level. Prints time and peak RSS of each step.
if [ "${UPFLOW_BIG_IMAGE_TEST:-0}" = 1 ]; then
  big=$tmp/big.img
  for _ in $(seq 768); do head -c 1048576 /dev/urandom; head -c 3145728 /dev/zero; done >"$big"
  timed() { # NAME CMD...: run with /usr/bin/time -v, print elapsed and max RSS
    local name=$1; shift
    /usr/bin/time -v "$@" >"$tmp/out" 2>"$tmp/time"; rc=$?
    echo "big $name: rc $rc, $(grep 'Elapsed' "$tmp/time" | sed 's/.*): //') elapsed," \
      "$(grep 'Maximum resident' "$tmp/time" | sed 's/.*: //') KB max RSS"
  }
  timed create "$upflow" image create -i "$tmp/big.idx" -p "$tmp/big.pay" "$big"
  check "big create exits 0" [ "$rc" -eq 0 ]
  cat "$tmp/out"
  timed verify "$upflow" image verify "$tmp/big.idx" "$tmp/big.pay"
  check "big verify exits 0" [ "$rc" -eq 0 ]
  timed extract "$upflow" image extract "$tmp/big.idx" "$tmp/big.pay" "$tmp/big.out"
  check "big extract exits 0" [ "$rc" -eq 0 ]
  check "big extract rebuilds the image" cmp -s "$big" "$tmp/big.out"
fi

finish
