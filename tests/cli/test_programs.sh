#!/usr/bin/env bash
# What a person sees of the three programs: --version, --help, usage errors (exit 2 with a
# hint), and the CLI's key and json commands end to end.
# Usage: test_programs.sh UPFLOWD UPFLOW_AGENT UPFLOW DATA_DIR
set -uo pipefail
upflowd=$1 agent=$2 upflow=$3 data=$4
. "$(dirname "$0")/testlib.sh"

version=$(sed -n 's/^project(upflow VERSION \([0-9.]*\).*/\1/p' "$data/../../CMakeLists.txt")
for prog in "$upflowd" "$agent" "$upflow"; do
  name=$(basename "$prog")
  run "$prog" --version
  check "$name --version exits 0" [ "$rc" -eq 0 ]
  check "$name --version prints name and version" [ "$out" = "$name (upflow) $version" ]
  run "$prog" --help
  check "$name --help exits 0" [ "$rc" -eq 0 ]
  check "$name --help starts with Usage" [ "${out%%:*}" = "Usage" ]
  check "$name --help lists --version" grep -q -- '--version' "$tmp/out"
  check "$name --help writes nothing to stderr" [ -z "$err" ]
  run "$prog" --no-such-option
  check "$name unknown option exits 2" [ "$rc" -eq 2 ]
  check "$name unknown option names it" grep -q "unrecognized option '--no-such-option'" "$tmp/err"
  check "$name unknown option ends with the hint" [ "$(tail -n 1 "$tmp/err")" = "Try '$name --help' for more information." ]
  check "$name unknown option prints nothing to stdout" [ -z "$out" ]
  run "$prog" -Z
  check "$name unknown short option exits 2" [ "$rc" -eq 2 ]
done

run "$upflow" no-such-command
check "unknown command exits 2" [ "$rc" -eq 2 ]
check "unknown command is named" grep -q "unknown command 'no-such-command'" "$tmp/err"
run "$upflow"
check "no command exits 2" [ "$rc" -eq 2 ]
run "$upflow" key --help
check "key --help lists generate" grep -q generate "$tmp/out"

# key generate: a private key file with mode 0600, never overwritten, and `show` agrees
for type in ed25519 ecdsa rsa; do
  run "$upflow" key generate --type "$type" --out "$tmp/$type.pem"
  check "key generate $type exits 0" [ "$rc" -eq 0 ]
  check "key generate $type writes mode 0600" [ "$(stat -c %a "$tmp/$type.pem")" = 600 ]
  keyid=$(sed -n 's/.*"keyid": "\([0-9a-f]*\)".*/\1/p' "$tmp/out")
  check "key generate $type prints a keyid" [ ${#keyid} -eq 64 ]
  run "$upflow" key show "$tmp/$type.pem"
  check "key show $type gives the same keyid" grep -q "\"keyid\": \"$keyid\"" "$tmp/out"
  check "key show $type names the type" grep -q "\"keytype\": \"$type\"" "$tmp/out"
done
cp "$tmp/ed25519.pem" "$tmp/before.pem"
run "$upflow" key generate --out "$tmp/ed25519.pem"
check "key generate refuses to overwrite" [ "$rc" -eq 1 ]
check "key generate keeps the old key" cmp -s "$tmp/ed25519.pem" "$tmp/before.pem"
run "$upflow" key generate --type dsa --out "$tmp/dsa.pem"
check "key generate unknown type is a usage error" [ "$rc" -eq 2 ]
check "key generate unknown type writes nothing" [ ! -e "$tmp/dsa.pem" ]
chmod 0644 "$tmp/rsa.pem"
run "$upflow" key show "$tmp/rsa.pem"
check "key show refuses a world-readable key" [ "$rc" -eq 1 ]

# json canonical: the bytes the TUF vectors' root signature covers
run "$upflow" json canonical --member signed "$data/tuf-vectors/metadata/1.root.json"
check "json canonical exits 0" [ "$rc" -eq 0 ]
check "json canonical matches VECTORS.md" [ "$(printf '%s' "$out" | sha256sum | cut -d' ' -f1)" = 7b43f0ee720306ecec335a622666863339bd9c0183b2c13f4b2aec0ebd2ad19e ]
printf '{"a": 1, "a": 2}' >"$tmp/dup.json"
run "$upflow" json canonical "$tmp/dup.json"
check "json canonical refuses duplicate keys" [ "$rc" -eq 1 ]
check "json canonical names file and problem" grep -q "dup.json: bad JSON at line 1.*duplicate" "$tmp/err"
run "$upflow" json canonical "$tmp/missing.json"
check "json canonical of a missing file exits 1" [ "$rc" -eq 1 ]

finish
