#!/usr/bin/env bash
# Install chainrule with its test extra (PyTorch CPU as the oracle, Graphviz and Chromium for the
# drawing and explorer tests), then run the whole suite on all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# Graphviz and Chromium from apt when they are missing, without the packages they only recommend
# (a print dialog, a desktop's services: 118 packages instead of 29), in the background while pip
# installs: each keeps about one core busy. In a new virtual environment on 2 cores, the installs
# took 65 s so, and 98 s with the recommended packages, pip compiling and the two one after the other.
packages=
if ! command -v dot >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz chromium >/dev/null) \
            || echo "warning: could not install graphviz/chromium; the tests that need them will be skipped" &
        packages=$!
    fi
fi
# Bytecode for what pip installs, and for chainrule, on every core rather than by pip on one: the
# test processes and the processes tests start (teaching scripts, launched ranks) read it instead
# of each compiling the sources they import again, which they would do every time where
# PYTHONDONTWRITEBYTECODE is set (6 s for torch and torch._dynamo). The installed packages only
# when pip installed some: looking through them all again costs 13 s where nothing is new.
installed() {
    python3 -c 'import importlib.metadata as m; print(*sorted(f"{d.name}=={d.version}" for d in m.distributions()))'
}
before=$(installed)
python3 -m pip install -q --no-compile -e ".[test]"
if [ "$(installed)" != "$before" ]; then
    python3 -m compileall -q -j 0 $(python3 -c 'import sysconfig; print(*{sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})') >/dev/null || true
fi
python3 -m compileall -q src >/dev/null
if [ -n "$packages" ]; then
    wait "$packages"
fi
# The whole suite: two pytest processes on halves of the test files, balanced by tests/durations.json
# (scripts/run_tests.py says why not pytest-xdist). Given arguments (a folder, -k ...): pytest-xdist.
if [ "$#" -eq 0 ]; then
    exec python3 scripts/run_tests.py
fi
exec python3 -m pytest -n 2 "$@"
