#!/usr/bin/env bash
# Quick start: sets up a fresh Debian machine, builds, starts the broker on its embedded defaults
# (SQLite in ./data), drives it end to end with brokerctl, runs the agent demo (deploy/demo), then stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
echo "== building (release)"
swift build -c release
bin=$(swift build -c release --show-bin-path)
mkdir -p data

echo "== starting the broker (api tcp://127.0.0.1:5555, events tcp://127.0.0.1:5556, db data/broker.db)"
"$bin/broker" --log-level notice &
broker_pid=$!
trap 'kill "$broker_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do "$bin/brokerctl" ping --timeout 0.2 --retries 1 >/dev/null 2>&1 && break; sleep 0.1; done

first_event=$("$bin/brokerctl" stats --json | jq .lastEventSeq)

# Shows each command as you would type it (quoted), then runs it.
run() { printf '$ brokerctl'; printf ' %q' "$@"; echo; "$bin/brokerctl" "$@"; echo; }
run ping
session=$("$bin/brokerctl" session create --type dev --feature demo-feature --task task-1 \
    --agent "You are the Dev agent. Make the checks pass." --context '{"repo": "demo", "branch": "main"}')
echo "\$ brokerctl session create --type dev --feature demo-feature ...  -> $session"; echo
run session add "$session" --role user "Add a --verbose flag to the CLI and a test for it."
run session add "$session" --role assistant "Plan: parse the flag in Options.swift, print debug lines, add a test."
run session checkpoint "$session" --pending "add --verbose flag" --pending "write its test" --decisions "flag name is --verbose"
run session messages "$session"
run session request "$session" --message "What is next?" --preview
run session add "$session" --role assistant "DONE: add --verbose flag. TODO: document --verbose in the README"
run session add "$session" --role assistant "I ran the suite and all 41 tests pass. The flag is parsed in \
Options.swift, debug lines go to stderr through the logger, and the new test checks both -v and --verbose. \
We decided to keep the normal output unchanged, so scripts that parse it keep working."
run session add "$session" --role user "Good. Let's keep the default log level at warning. The README section \
can wait until the release notes are drafted; I'm blocked on the changelog template from the docs team anyway."
run session compact "$session" --dry-run
run session compact "$session"
run checkpoint show "$session"
run session compactions "$session"
run session ls
run tokens count - <<< "Exact cl100k_base token counts for every message."
run stats

run events --since "$first_event" --count 6

echo "== moving data: one session as Markdown, a whole-database backup, a gzipped trace bundle"
run session export "$session" --format markdown --out data/session.md
head -n 12 data/session.md; echo
run export data/backup.json
run traces export --out data/traces.jsonl.gz --session "$session"
echo '$ gunzip -c data/traces.jsonl.gz | head -n 1 | jq -c .counts'
gunzip -c data/traces.jsonl.gz | head -n 1 | jq -c .counts; echo

echo "== the agent demo: five agents and ralph take a feature from plan to merged, on recorded answers"
deploy/demo/run-demo.sh "$bin"

echo "== stopping the broker (SIGTERM: finishes in-flight requests, commits, closes the database)"
kill -TERM "$broker_pid"
wait "$broker_pid"
trap - EXIT
echo "== done: the data stays in data/broker.db (run the broker again and 'brokerctl session ls' shows it)"
