#!/usr/bin/env bash
# The agent's U-Boot back-end against U-Boot's own tools (Debian's libubootenv-tool), on a
# file-backed redundant environment: two 16 KiB copies named by a fw_env.config. The copies
# start erased (0xff, no valid CRC), as on a new device; fw_setenv -f DEFAULTS initialises
# them. Then fw_setenv writes and we read, we write and fw_printenv reads back exactly
# (variables that are not upflow's kept), and an environment with no valid copy is refused.
# Usage: test_ubootenv.sh BOOT_TOOL
set -uo pipefail
tool=$1
. "$(dirname "$0")/testlib.sh"

for t in fw_printenv fw_setenv; do
  command -v $t >/dev/null || { echo "$t missing: run scripts/setup-debian.sh" >&2; exit 1; }
done
cfg=$tmp/fw_env.config
erase() { head -c 16384 /dev/zero | tr '\0' '\377' >"$1"; }
erase "$tmp/env0"
erase "$tmp/env1"
printf '%s 0x0 0x4000\n%s 0x0 0x4000\n' "$tmp/env0" "$tmp/env1" >"$cfg"

# A new device: no valid copy. Refused, and nothing written.
run "$tool" uboot "$cfg" commit A
check "an erased environment is refused (exit 1)" [ "$rc" -eq 1 ]
check "it says how to initialise it ($err)" grep -q 'fw_setenv' "$tmp/err"
erased() { [ "$(tr -d '\377' <"$1" | wc -c)" -eq 0 ]; }
check "the erased copies were not written" erased "$tmp/env0"
check "the erased copies were not written" erased "$tmp/env1"

# fw_setenv initialises and writes; we read.
printf 'bootcmd=run upflow_boot\nbootdelay=0\n' >"$tmp/defaults"
fw_setenv -c "$cfg" -f "$tmp/defaults" upflow_slot B 2>/dev/null
fw_setenv -c "$cfg" foreign "a b=c" 2>/dev/null
run "$tool" uboot "$cfg" read
check "read what fw_setenv wrote ($err)" [ "$rc" -eq 0 ]
check "its state" [ "$out" = $'slot=B\ntrial=\nbootcount=0\nbootlimit=1' ]

# We write; fw_printenv reads.
run "$tool" uboot "$cfg" commit A
check "commit A ($err)" [ "$rc" -eq 0 ]
run "$tool" uboot "$cfg" set-trial B
check "set-trial B ($err)" [ "$rc" -eq 0 ]
run fw_printenv -c "$cfg"
check "fw_printenv reads our environment ($err)" [ "$rc" -eq 0 ]
expected="bootcmd=run upflow_boot
bootdelay=0
foreign=a b=c
upflow_bootcount=0
upflow_bootlimit=1
upflow_slot=A
upflow_trial=B"
check "fw_printenv reads back exactly what we wrote" [ "$out" = "$expected" ]

# The boot script's rule, through our back-end: one trial, then back to A.
run "$tool" uboot "$cfg" power-on
check "power-on 1 boots the trial B" [ "$out" = B ]
check "the attempt is counted" [ "$(fw_printenv -c "$cfg" -n upflow_bootcount 2>/dev/null)" = 1 ]
run "$tool" uboot "$cfg" power-on
check "power-on 2 falls back to A" [ "$out" = A ]
run fw_printenv -c "$cfg"
check "the trial is unset" bash -c '! grep -q "^upflow_trial" "$0"' "$tmp/out"

# A copy torn by a power cut: the other one is used.
run "$tool" uboot "$cfg" commit B
newest=$(for f in "$tmp/env0" "$tmp/env1"; do
  printf '%s %d\n' "$f" "$(od -An -tu1 -j4 -N1 "$f")"; done | sort -k2 -n | tail -1 | cut -d' ' -f1)
printf 'torn' | dd of="$newest" bs=1 seek=64 conv=notrunc status=none
run "$tool" uboot "$cfg" read
check "a torn newer copy falls back to the older one ($err)" \
  [ "$out" = $'slot=A\ntrial=\nbootcount=0\nbootlimit=1' ]

finish
