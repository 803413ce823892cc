#!/usr/bin/env bash
# The README's first steps on a fresh clone: `npm ci && npm start` serves and answers /health,
# then the README's server section (`npx ferry serve` with FERRY_JWT_SECRET) and
# `npx ferry serve --dev` do too. Slow (a full npm ci and build), so run by hand, not in CI
# (CI is itself a fresh clone running npm ci, and test/docs/commands.test.ts runs the commands):
#   bash test/packaging/fresh-clone.sh [repository]   # default: this checkout's committed HEAD
# The one change to the README's commands is the port (free loopback ports instead of 8787).
set -euo pipefail
repo="${1:-$(git -C "$(dirname "$0")/../.." rev-parse --show-toplevel)}"
dir="$(mktemp -d /tmp/ferry-fresh-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Starts "$@" in its own process group and waits (at most 10 minutes: npm start builds first)
# until /health on $port answers.
serve() {
  local log="$dir/$1.log"; shift
  setsid "$@" >"$log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 1200); do
    if curl -fsS --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null; then echo; return 0; fi
    kill -0 "$!" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.5
  done
  cat "$log"; return 1
}
stop_last() {
  local pid="${pids[-1]}"
  kill -TERM -- "-$pid"
  for _ in $(seq 1 60); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.5; done
  echo "server did not stop"; return 1
}

git clone -q "$repo" "$dir/ferry"
cd "$dir/ferry"
start=$SECONDS
npm ci --prefer-offline --no-audit --no-fund >/dev/null
echo "npm ci: $((SECONDS - start)) s"

port=$(free_port)
start=$SECONDS
serve npm-start npm start -- --port "$port"
grep -q 'dev token for alice: ey' "$dir/npm-start.log"
echo "npm start answered /health after $((SECONDS - start)) s (build included), dev tokens printed"
stop_last

port=$(free_port)
export FERRY_JWT_SECRET="$(openssl rand -base64 48)"
serve readme npx ferry serve --port "$port" --db ./data/ferry.db --schema examples/todo/schema.json
npx ferry serve --help | grep -q 'Usage: ferry serve'
stop_last
echo "npx ferry serve (README's server section) answered /health; --help works"

unset FERRY_JWT_SECRET
port=$(free_port)
serve dev npx ferry serve --dev --port "$port"
stop_last
echo "npx ferry serve --dev answered /health"
echo "fresh clone: ok"
