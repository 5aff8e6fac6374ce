#!/usr/bin/env bash
# Runs the whole test suite. Builds first (this may fetch crates), then runs every test
# inside a private network namespace where only loopback exists, so no client under test
# (ours or a third-party peer) can reach past this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in mktorrent opentracker transmission-daemon transmission-cli tmux chromium node; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || missing+=("python3-libtorrent")
[ -f tests/web/node_modules/playwright-core/package.json ] || missing+=("playwright-core (npm ci --prefix tests/web)")
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing test dependencies: ${missing[*]}" >&2
    bash scripts/setup.sh
  else
    echo "missing test dependencies: ${missing[*]} (run: sudo bash scripts/setup.sh)" >&2
    exit 1
  fi
fi

cargo build --workspace --all-targets --locked
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  exec unshare -n -- bash -c 'ip link set lo up && cargo nextest run --workspace --locked --offline --no-fail-fast "$@"' _ "$@"
fi
echo "note: not root or no unshare: running on the host's loopback" >&2
exec cargo nextest run --workspace --locked --offline --no-fail-fast "$@"
