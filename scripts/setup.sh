#!/usr/bin/env bash
# Installs what the tests and benchmarks need on Debian (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  mktorrent opentracker transmission-cli transmission-daemon python3 python3-libtorrent \
  aria2 iproute2 util-linux tmux chromium openssl >/dev/null
# Node.js and npm for the web UI's browser test (the machine's own, else Debian's).
command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
# playwright-core, pinned by tests/web/package-lock.json; it drives Debian's chromium.
npm ci --prefix "$(dirname "$0")/../tests/web" --no-audit --no-fund --loglevel=error
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
