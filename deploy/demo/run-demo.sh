#!/usr/bin/env bash
# The agent demo: the five agents and ralph take a feature ("add mul to calc.sh, document it") through
# plan, dev, QA, review and merge in a scratch git repo, on recorded model answers (the replay provider).
#
#   deploy/demo/run-demo.sh BIN_DIR
#
# BIN_DIR holds broker, brokerctl, ralph and the five *-agent executables. The broker must already be
# running on the default endpoints (or those BROKER_API / BROKER_EVENTS / BROKER_WORKERS name). Exits with
# ralph run's status: 0 when every task is done, 1 when one failed, 2 on usage or broker errors.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BIN_DIR   (where brokerctl, ralph and the *-agent executables are)" >&2
    exit 2
fi
bin=$(cd "$1" && pwd)
demo=$(cd "$(dirname "$0")" && pwd)
for tool in brokerctl ralph pm-agent dev-agent qa-agent harness-agent merge-agent; do
    [ -x "$bin/$tool" ] || { echo "demo: $bin/$tool is missing (build first)" >&2; exit 2; }
done
for tool in git jq; do
    command -v "$tool" >/dev/null || { echo "demo: $tool is not on PATH" >&2; exit 2; }
done
"$bin/brokerctl" ping --timeout 1 --retries 2 >/dev/null \
    || { echo "demo: no broker answers (start it first: $bin/broker)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/agentbroker-demo.XXXXXX")
repo="$work/repo"
logs="$work/logs"
mkdir -p "$logs"

# Every agent started here is stopped on any exit: SIGTERM, then SIGKILL for those still there after 2 s.
agent_pids=()
stop_agents() {
    [ ${#agent_pids[@]} -gt 0 ] || return 0
    kill -TERM "${agent_pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 20); do
        alive=0
        for pid in "${agent_pids[@]}"; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        [ "$alive" -eq 1 ] || break
        sleep 0.1
    done
    kill -KILL "${agent_pids[@]}" 2>/dev/null || true
    wait "${agent_pids[@]}" 2>/dev/null || true
    agent_pids=()
}
trap stop_agents EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_logs() {
    for log in "$logs"/*.log; do echo "--- $log"; tail -n 20 "$log"; done >&2
}

# Shows each command as you would type it (quoted), then runs it; a failure here does not stop the demo.
run() {
    local tool=$1
    shift
    printf '$ %s' "$tool"
    printf ' %q' "$@"
    echo
    "$bin/$tool" "$@" || true
    echo
}

echo "== scratch repo $repo (from deploy/demo/project)"
mkdir -p "$repo"
cp -R "$demo/project/." "$repo/"
git -C "$repo" init -q -b main
git -C "$repo" config user.name "AgentBroker Demo"
git -C "$repo" config user.email "demo@agentbroker.invalid"
git -C "$repo" add -A
git -C "$repo" commit -q -m "calc.sh with add, and its test"
git -C "$repo" log --oneline

feature="demo-$(date +%s)"
first=$("$bin/brokerctl" stats --json | jq .lastEventSeq)

echo "== starting the agents (pm, dev and harness on recorded answers; qa and merge need no model); logs in $logs"
for role in pm dev qa harness merge; do
    args=(--name "demo-$role")
    case $role in
        pm | dev | harness) args+=(--provider replay --replay-file "$demo/replay/$role.json") ;;
    esac
    "$bin/$role-agent" "${args[@]}" >"$logs/$role.log" 2>&1 &
    agent_pids+=($!)
done
# Each agent announces itself with READY; wait for the five worker:attached events.
if ! timeout 20 "$bin/brokerctl" events worker:attached --since "$first" --count 5 >/dev/null; then
    echo "demo: the five agents did not all attach within 20 s" >&2
    show_logs
    exit 2
fi
run brokerctl worker ls

echo "== ralph plan: the PM agent splits deploy/demo/feature.md into tasks (feature $feature)"
status=0
"$bin/ralph" plan --feature "$feature" --repo "$repo" --description-file "$demo/feature.md" || status=$?
if [ "$status" -ne 0 ]; then
    echo "demo: ralph plan exited $status" >&2
    show_logs
    exit "$status"
fi

echo "== ralph run: dev until the checks pass, then QA, harness review and merge, task by task"
"$bin/ralph" run --feature "$feature" --job-timeout 300 || status=$?
[ "$status" -eq 0 ] || show_logs

echo "== what happened: the job, task and worker events since the demo started"
run brokerctl events job: task: worker: --since "$first" --no-follow
echo "== the broker's view"
run ralph status --feature "$feature"
run brokerctl task ls --feature "$feature"
run brokerctl job ls
run brokerctl session ls

echo "== the feature branch"
echo "\$ git log --oneline --graph feature/$feature"
git -C "$repo" log --oneline --graph "feature/$feature" || true
echo
echo "\$ git show feature/$feature:calc.sh"
git -C "$repo" show "feature/$feature:calc.sh" || true

echo "== stopping the agents"
stop_agents
if [ "$status" -eq 0 ]; then
    echo "== done: every task of $feature is merged into feature/$feature in $repo (agent logs in $logs)"
else
    echo "== ralph run exited $status; the scratch repo and the agent logs stay in $work" >&2
fi
exit "$status"
