#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, then runs every Swift test
# (unit, integration against real brokers and processes, and the Python pyzmq interop client).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
swift build --build-tests
swift test --skip-build --disable-xctest "$@"
