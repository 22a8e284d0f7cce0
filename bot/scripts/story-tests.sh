#!/usr/bin/env bash
# Conversation tests: starts the action server on a free port, runs `rasa test core --e2e --stories bot/tests`
# (`rasa test` would also run an NLU test on ./data, which does not exist: NLU is benchmarked by bench/)
# against models/current.tar.gz with --fail-on-prediction-errors, always stops the action server,
# and exits with rasa's status. Run from anywhere; uses the bot venv (BOT_VENV, default .venv-bot).
set -uo pipefail
cd "$(dirname "$0")/../.."
BOT_VENV=${BOT_VENV:-.venv-bot}
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
MODEL=${MODEL:-models/current.tar.gz}
[ -f "$MODEL" ] || { echo "no model at $MODEL: run make train" >&2; exit 2; }

tmp=$(mktemp -d -t story-tests.XXXXXX)
port=$("$BOT_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
printf 'action_endpoint:\n  url: "http://127.0.0.1:%s/webhook"\n' "$port" > "$tmp/endpoints.yml"

# The action server gets its own demo database so tests never touch var/.
ORDERS_DB_PATH="$tmp/demo_backend.sqlite3" "$BOT_VENV/bin/rasa" run actions --actions actions \
  --port "$port" >"$tmp/action-server.log" 2>&1 &
action_pid=$!
cleanup() {
  kill "$action_pid" 2>/dev/null
  wait "$action_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$action_pid" 2>/dev/null; then
    echo "action server failed to start:" >&2; cat "$tmp/action-server.log" >&2; exit 2
  fi
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "action server not answering on $port" >&2; exit 2; }

"$BOT_VENV/bin/rasa" test core --e2e --stories bot/tests --model "$MODEL" --endpoints "$tmp/endpoints.yml" \
  --fail-on-prediction-errors --out "$tmp/results"
status=$?
if [ $status -eq 0 ]; then
  echo "story tests: $(grep -c -- '- story:' bot/tests/test_*.yml | awk -F: '{s+=$2} END {print s}') stories passed"
else
  cat "$tmp"/results/failed_test_stories.yml 2>/dev/null | head -80
fi
exit $status
