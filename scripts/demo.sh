#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults. Installs its Debian packages, builds a
# Release tree, then runs the longest real path that exists today and says what it shows.
#
# Today (foundation only): the three programs, offline signing keys for the four TUF roles,
# and the canonical-JSON/keyid/signature machinery checked against the python-tuf vectors.
# The change workflow, releases, rollouts and the fleet simulator join as their issues land.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null
bin=build/release/src
work=$(mktemp -d /tmp/upflow-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

say() { printf '\n== %s\n' "$*"; }

say "The three programs"
"$bin/upflowd" --version
"$bin/upflow-agent" --version
"$bin/upflow" --version

say "Offline keys for a TUF repository: root (ed25519), targets (ecdsa P-256), snapshot and timestamp (ed25519)"
for role in root targets snapshot timestamp; do
  type=ed25519; [ "$role" = targets ] && type=ecdsa
  keyid=$("$bin/upflow" key generate --type "$type" --out "$work/$role.pem" |
          sed -n 's/.*"keyid": "\([0-9a-f]*\)".*/\1/p')
  printf '  %-9s %-7s keyid %s  (%s, mode %s)\n' "$role" "$type" "$keyid" \
    "$work/$role.pem" "$(stat -c %a "$work/$role.pem")"
done

say "What a TUF signature covers: the canonical form of root.signed from the reference vectors"
vec=tests/data/tuf-vectors/metadata/1.root.json
"$bin/upflow" json canonical --member signed "$vec" >"$work/root.signed"
printf '  pretty-printed file: %s bytes; canonical signed part: %s bytes\n' \
  "$(stat -c %s "$vec")" "$(stat -c %s "$work/root.signed")"
got=$(sha256sum "$work/root.signed" | cut -d' ' -f1)
want=7b43f0ee720306ecec335a622666863339bd9c0183b2c13f4b2aec0ebd2ad19e
printf '  sha256 %s\n  python-tuf says %s -> %s\n' "$got" "$want" \
  "$([ "$got" = "$want" ] && echo identical || echo DIFFERENT)"
[ "$got" = "$want" ]

say "Not yet in this build"
echo "  upflowd serves nothing yet (workflow server: issue #3); upflow-agent installs nothing"
echo "  yet (issue #5); releases (#4), rollouts and the 50-device demo (#6), hawkBit DDI (#7)."
