#!/usr/bin/env bash
# Installs what the tests and benchmarks need on Debian (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  mktorrent opentracker transmission-cli transmission-daemon python3 python3-libtorrent \
  aria2 iproute2 util-linux tmux >/dev/null
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
