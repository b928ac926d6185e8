#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and the demo need.
# Idempotent: when everything is present it prints nothing and takes well under a second.
# Run as root (or with sudo available); it needs only Debian's archive.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  # clang with its sanitizer and libFuzzer runtimes, for the Asan build and the fuzz targets
  clang libclang-rt-14-dev
  # the libraries upflow links
  libjansson-dev libssl-dev libmicrohttpd-dev libsqlite3-dev libpq-dev
  libcurl4-openssl-dev libzstd-dev
  # INI configuration files (upflowd, upflow-agent)
  libinih-dev
  # the agent's bootloader back-ends: U-Boot's environment (libubootenv), and the tools the
  # tests check our GRUB and U-Boot environments against (grub-editenv, fw_printenv/fw_setenv)
  libubootenv-dev grub-common libubootenv-tool
  # time zones (TZif files) for working calendars
  tzdata
  # tests (integration tests drive the server with Python's standard library)
  libcmocka-dev sqlite3 python3
  # the demo's curl call for an SLA view the CLI does not print
  curl
  # hawkBit DDI tests: Debian's swupdate is the real device (tests/integration/test_swupdate.py),
  # openssl makes its signing certificate
  swupdate openssl
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-debian: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup-debian: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
