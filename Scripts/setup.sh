#!/usr/bin/env bash
# Installs the system packages Recur needs on Debian/Ubuntu (OpenBLAS) or checks for them.
# macOS needs nothing: Recur uses Accelerate there.
set -euo pipefail
if [ "$(uname)" = "Darwin" ]; then exit 0; fi
need=()
pkg-config --exists openblas 2>/dev/null || need+=(libopenblas-dev pkg-config)
command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
