#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install textcl with its test tools into it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "textcl needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned to 2.13.0 in pyproject.toml (CPU wheel); an unpinned torch pulls a CUDA build.
.venv/bin/python -m pip install --quiet -e '.[dev,brokers]'
# The broker tests run against a real Redis server (Debian's redis-server); the dashboard
# tests drive a real headless browser (Debian's chromium + chromium-driver, via selenium).
missing=""
command -v redis-server >/dev/null || missing="$missing redis-server"
command -v chromium >/dev/null || missing="$missing chromium"
command -v chromedriver >/dev/null || missing="$missing chromium-driver"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "note: missing$missing (apt-get install$missing): the broker and dashboard tests need them" >&2
  fi
fi
