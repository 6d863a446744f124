#!/usr/bin/env bash
# Install chainrule with its test extra (PyTorch CPU as the oracle, Graphviz and Chromium for the
# drawing and explorer tests), then run the whole suite on all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dot >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium >/dev/null) \
            || echo "warning: could not install graphviz/chromium; the tests that need them will be skipped"
    fi
fi
python3 -m pip install -q -e ".[test]"
# Bytecode for chainrule once (under a second): the xdist workers and the processes tests start
# (teaching scripts, launched ranks) then read it instead of each compiling the sources again,
# which they would do every time where PYTHONDONTWRITEBYTECODE is set.
python3 -m compileall -q src >/dev/null
# The whole suite: two pytest processes on halves of the test files, balanced by tests/durations.json
# (scripts/run_tests.py says why not pytest-xdist). Given arguments (a folder, -k ...): pytest-xdist.
if [ "$#" -eq 0 ]; then
    exec python3 scripts/run_tests.py
fi
exec python3 -m pytest -n 2 "$@"
