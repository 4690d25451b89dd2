#!/usr/bin/env bash
# Installs what the interop tests need on a fresh Debian machine, as root:
# Python's websocket-client and websockets, Node.js with npm, Debian's
# Chromium, and the node/ package (ws, playwright-core) from its lock file.
# internal/bridgeinterop (the net/http bridge against chi, promhttp, gzhttp,
# gorilla, coder...) needs curl and Chromium from here; its Go modules come
# through its own go.mod.
# Safe to run again: apt-get and npm ci skip what is already in place.
#
#   internal/interop/setup.sh
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

apt() {
  # Another apt-get (the CI script's own, say) may hold the dpkg lock:
  # apt waits for it up to the timeout; a failed download is retried.
  local i
  for i in 1 2 3; do
    if apt-get -o DPkg::Lock::Timeout=120 -qq "$@" >/dev/null; then
      return 0
    fi
    sleep 5
  done
  echo "setup.sh: apt-get $* failed" >&2
  return 1
}

# fonts-liberation is only a recommendation of chromium's, but without a
# font the page screenshot has no text.
pkgs=(python3-websocket python3-websockets chromium fonts-liberation curl openssl)
# A machine whose Node.js came from elsewhere (NodeSource's nodejs bundles
# npm and conflicts with Debian's npm) keeps it; only a missing tool is
# installed from Debian.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt update
  apt install -y --no-install-recommends "${missing[@]}"
fi

# Debian 12's own nodejs is 18; playwright-core (package.json) needs 20, which
# the project's machines ship. Say so instead of failing later in the test.
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "setup.sh: warning: Node.js $(node --version) is older than 20, which playwright-core needs; TestBrowser will fail" >&2
fi

# npm ci wipes node_modules and installs exactly package-lock.json; skip it
# when the installed tree already satisfies the (exactly pinned) package.json.
cd node
if ! npm ls --all >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "setup.sh: interop tools ready (python3 websocket-client and websockets, node $(node --version), npm $(npm --version), $(/usr/bin/chromium --version 2>/dev/null | head -1))"
