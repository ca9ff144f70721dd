#!/bin/sh
# view_profile.sh: serves demo/profiles with plop's viewer on
# http://127.0.0.1:8888/ (PORT to change it) until Ctrl-C.  Extra arguments
# go to `python -m plop.viewer` (e.g. --port 0, --address).
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
mkdir -p demo/profiles
exec env PYTHONPATH=collector "$PYTHON" -m plop.viewer \
    --datadir=demo/profiles --port "${PORT:-8888}" "$@"
