#!/usr/bin/env bash
# The agent's GRUB environment block against the real grub-editenv (Debian's grub-common):
# a block grub-editenv made is read by our code; blocks our code wrote are listed back by
# grub-editenv exactly (values with spaces, '=', backslashes and newlines, and a variable
# that is not upflow's, kept through every write); grub-editenv can still edit them; an
# environment too large for the 1024-byte block is refused and the file left as it was.
# Usage: test_grubenv.sh BOOT_TOOL
set -uo pipefail
tool=$1
. "$(dirname "$0")/testlib.sh"

if ! command -v grub-editenv >/dev/null; then
  echo "grub-editenv missing: run scripts/setup-debian.sh (grub-common)" >&2
  exit 1
fi
env=$tmp/grubenv

# grub-editenv writes, we read.
grub-editenv "$env" create
grub-editenv "$env" set upflow_slot=B upflow_trial=A upflow_bootcount=1 upflow_bootlimit=2 \
  "saved_entry=Debian GNU/Linux"
check "grub-editenv made 1024 bytes" [ "$(stat -c %s "$env")" -eq 1024 ]
run "$tool" grub "$env" read
check "read a grub-editenv block ($err)" [ "$rc" -eq 0 ]
check "read its state" [ "$out" = $'slot=B\ntrial=A\nbootcount=1\nbootlimit=2' ]

# We write, grub-editenv reads: state, and values that need care.
run "$tool" grub "$env" commit A
check "commit A ($err)" [ "$rc" -eq 0 ]
"$tool" grubenv-set "$env" spaces "a b  c" &&
  "$tool" grubenv-set "$env" equals "k=v=w" &&
  "$tool" grubenv-set "$env" backslash 'C:\dir\\x\' &&
  "$tool" grubenv-set "$env" newline $'line1\nline2'
check "our writer set four values" [ $? -eq 0 ]
run "$tool" grub "$env" set-trial B
check "set-trial B ($err)" [ "$rc" -eq 0 ]
expected="upflow_slot=A
upflow_trial=B
upflow_bootcount=0
upflow_bootlimit=2
saved_entry=Debian GNU/Linux
spaces=a b  c
equals=k=v=w
backslash=C:\\dir\\\\x\\
newline=line1
line2"
run grub-editenv "$env" list
check "grub-editenv lists our block ($err)" [ "$rc" -eq 0 ]
check "grub-editenv reads back exactly what we wrote" [ "$out" = "$expected" ]
check "our block is 1024 bytes" [ "$(stat -c %s "$env")" -eq 1024 ]
check "our block starts with the header" \
  [ "$(head -c 25 "$env")" = "# GRUB Environment Block" ]

# GRUB's own writer can still edit our block, and we read what it wrote.
grub-editenv "$env" set upflow_bootcount=2
grub-editenv "$env" unset spaces
run "$tool" grub "$env" read
check "read after grub-editenv edited our block" \
  [ "$out" = $'slot=A\ntrial=B\nbootcount=2\nbootlimit=2' ]
run "$tool" grub "$env" power-on
check "power-on: the trial is used up, A boots" [ "$out" = A ]
run grub-editenv "$env" list
check "the trial was dropped" grep -qx 'upflow_trial=' "$tmp/out"
check "foreign variables survived" grep -qx 'saved_entry=Debian GNU/Linux' "$tmp/out"

# Too full: refused, and the block left exactly as it was. (Debian's grub-editenv create
# adds a "# WARNING" comment line, which leaves room for a value of about 900 bytes.)
full=$tmp/full
grub-editenv "$full" create
grub-editenv "$full" set "big=$(head -c 900 /dev/zero | tr '\0' x)"
cp "$full" "$tmp/full.before"
run "$tool" grub "$full" commit A
check "an over-full environment is refused (exit 1)" [ "$rc" -eq 1 ]
check "it says the block is full ($err)" grep -q 'holds 1024' "$tmp/err"
check "the over-full block was not touched" cmp -s "$full" "$tmp/full.before"

# Malformed: refused with the reason, not overwritten.
printf '# GRUB Environment Block\nupflow_slot=A\n' >"$tmp/short"
run "$tool" grub "$tmp/short" commit B
check "a short block is refused (exit 1)" [ "$rc" -eq 1 ]
check "it says why ($err)" grep -q 'exactly 1024' "$tmp/err"
run "$tool" grub "$tmp/none" read
check "a missing block is refused (exit 1)" [ "$rc" -eq 1 ]

finish
