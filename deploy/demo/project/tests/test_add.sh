#!/bin/sh
# Checks calc.sh add; prints each check and exits 1 if any failed.
cd "$(dirname "$0")/.."
failed=0

check() {
    expected=$1
    shift
    actual=$(sh calc.sh "$@" 2>&1) || true
    if [ "$actual" = "$expected" ]; then
        echo "ok: calc.sh $* = $expected"
    else
        echo "FAIL: calc.sh $* printed '$actual', expected '$expected'"
        failed=1
    fi
}

check 5 add 2 3
check 0 add -4 4
check 100 add 58 42
exit $failed
