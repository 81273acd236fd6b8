#!/bin/sh
# A tiny calculator: sh calc.sh add A B prints A + B (integers).
set -eu

usage() {
    echo "usage: sh calc.sh add A B" >&2
    exit 2
}

[ $# -eq 3 ] || usage
case $1 in
    add) echo $(($2 + $3)) ;;
    *) usage ;;
esac
