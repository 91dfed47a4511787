#!/usr/bin/env bash
# Stops the local MiniStack that up.sh started (its state is in memory and goes with it), and a
# dockerd that sam_local.py started.
source "$(dirname "$0")/lib.sh"
for pidfile in "$STATE"/ministack-*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null && echo "stopped MiniStack (pid $pid)"
  rm -f "$pidfile"
done
# The Docker daemon that make invoke / make api started, if they started one.
if [ -f "$STATE/dockerd.pid" ]; then
  pid=$(cat "$STATE/dockerd.pid")
  kill "$pid" 2>/dev/null && echo "stopped dockerd (pid $pid)"
  rm -f "$STATE/dockerd.pid"
fi
