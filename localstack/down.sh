#!/usr/bin/env bash
# Stops the local MiniStack and payment provider that up.sh started (their state is in memory and
# goes with them), and a dockerd that sam_local.py started.
source "$(dirname "$0")/lib.sh"
for pidfile in "$STATE"/ministack-*.pid "$STATE"/payments-*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null && echo "stopped $(basename "$pidfile" .pid) (pid $pid)"
  rm -f "$pidfile"
done
rm -f "$STATE/payment-provider-url"
# The Docker daemon that make invoke / make api started, if they started one.
if [ -f "$STATE/dockerd.pid" ]; then
  pid=$(cat "$STATE/dockerd.pid")
  kill "$pid" 2>/dev/null && echo "stopped dockerd (pid $pid)"
  rm -f "$STATE/dockerd.pid"
fi
