#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test AgentBroker.
# Idempotent: it installs only missing packages, so a second run is quick.
set -euo pipefail

apt_packages=(libzmq3-dev libsqlite3-dev zlib1g-dev libcurl4 pkg-config jq)
python_packages=(pyzmq jsonschema)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # A mirror can drop an archive between update and install: refresh and retry once.
    if ! { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        echo "setup: apt-get failed, refreshing the package lists and retrying once" >&2
        sleep 2
        "${sudo_cmd[@]}" apt-get update -qq
        "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

# Python is only needed by the interop test (a pyzmq client that checks replies against Protocols/schemas).
if command -v python3 >/dev/null; then
    for pkg in "${python_packages[@]}"; do
        module=$pkg; [ "$pkg" = pyzmq ] && module=zmq
        python3 -c "import $module" 2>/dev/null || python3 -m pip install -q "$pkg" \
            || python3 -m pip install -q --break-system-packages "$pkg"
    done
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.x is required)" >&2; exit 1; }
