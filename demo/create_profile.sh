#!/bin/sh
# create_profile.sh: the live-profiling demo end to end, as `make demo` runs
# it.  Starts demo/busy_server.py on a free port, asks its /_profile endpoint
# for a profile of the running process (the server is never restarted),
# saves it in demo/profiles/, stops the server, renders an SVG call graph
# and an HTML report next to the profile with plop-render, and prints the
# three paths.
#
# Environment: PYTHON (default python3), PLOP_RENDER (default
# build/plop-render), DURATION seconds of profiling (default 3), INTERVAL
# (default 0.005), MODE (default prof), PROFILE_DIR (default demo/profiles).
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
RENDER=${PLOP_RENDER:-build/plop-render}
DURATION=${DURATION:-3}
INTERVAL=${INTERVAL:-0.005}
MODE=${MODE:-prof}
OUT_DIR=${PROFILE_DIR:-demo/profiles}

if [ ! -x "$RENDER" ]; then
    echo "create_profile: error: '$RENDER' is missing (run 'make render')" >&2
    exit 1
fi
if ! PYTHONPATH=collector "$PYTHON" -c 'import plop.collector' 2>/dev/null; then
    echo "create_profile: error: cannot import 'plop.collector' with '$PYTHON' (run 'make collector')" >&2
    exit 1
fi
mkdir -p "$OUT_DIR"

log=$(mktemp)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PYTHONPATH=collector "$PYTHON" demo/busy_server.py --port 0 >"$log" 2>&1 &
pid=$!

url=
tries=0
while [ -z "$url" ]; do
    url=$(sed -n 's/^busy_server: listening on \(http:[^ ]*\)$/\1/p' "$log")
    [ -n "$url" ] && break
    if ! kill -0 "$pid" 2>/dev/null || [ $tries -ge 300 ]; then
        echo "create_profile: error: the demo server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    tries=$((tries + 1))
    sleep 0.1
done
echo "create_profile: demo server at $url (pid $pid), profiling it for ${DURATION}s"

stamp=$(date -u +%Y%m%d-%H%M%S)
profile="$OUT_DIR/busy-$stamp.out"
"$PYTHON" - "${url}_profile?duration=$DURATION&interval=$INTERVAL&mode=$MODE" "$profile" <<'PY'
import os
import sys
import urllib.error
import urllib.request

url, path = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(url, timeout=120) as r:
        data = r.read()
        samples = r.headers.get("X-Plop-Samples", "?")
except urllib.error.HTTPError as e:
    sys.exit("create_profile: error: %s: %s" % (e, e.read().decode("utf-8", "replace").strip()))
except OSError as e:
    sys.exit("create_profile: error: cannot fetch '%s': %s" % (url, e))
tmp = path + ".tmp"
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, path)
print("create_profile: %s samples, %d bytes" % (samples, len(data)))
PY

kill -TERM "$pid"
wait "$pid" || true
pid=

case $profile in
/*) ;;
*) profile="$(pwd)/$profile" ;;
esac
svg="${profile%.out}.svg"
report="${profile%.out}.html"
"$RENDER" "$profile" -o "$svg"
"$RENDER" "$profile" -o "$report"

echo "profile: $profile"
echo "svg:     $svg"
echo "html:    $report"
echo "view all: sh demo/view_profile.sh  (then open http://127.0.0.1:8888/)"
