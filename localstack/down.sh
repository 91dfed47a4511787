#!/usr/bin/env bash
# Stops the local MiniStack that up.sh started (its state is in memory and goes with it).
source "$(dirname "$0")/lib.sh"
for pidfile in "$STATE"/ministack-*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null && echo "stopped MiniStack (pid $pid)"
  rm -f "$pidfile"
done
