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
# The broker tests run against a real Redis server (Debian's redis-server).
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "note: redis-server is missing (apt-get install redis-server); the broker tests need it" >&2
  fi
fi
