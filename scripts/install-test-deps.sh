#!/usr/bin/env bash
# Installs the Debian packages the test suite uses as real protocol peers and tools.
set -euo pipefail
pkgs=(python3-twisted buildbot buildbot-worker git make gcc openssl podman python3-pytest golang-go perl python3-lz4 automake autoconf cmake cargo chromium postgresql ngircd)
# The pb and worker tests run a second time on the system Node 20 (/usr/bin/node). Debian
# 13's nodejs is 20; Debian 12's is 18, which scripts/test-deps.mjs refuses: there, install
# NodeSource's nodejs 20 or point LATHE_SYSTEM_NODE at a Node 20.
[ -x "${LATHE_SYSTEM_NODE:-/usr/bin/node}" ] || pkgs+=(nodejs)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "lathe: installing Debian packages: ${missing[*]}" >&2
sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
sudo_ apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
