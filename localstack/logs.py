#!/usr/bin/env python3
"""Follows the functions' logs on the local cloud `make up` started, all functions in one stream.

    logs.py [--order ORDER_ID] [--since SECONDS] [--endpoint URL] [--stack-name NAME]

Each line is `time function message`. With --order, only the lines that name that order: every
event a function publishes or handles carries its order id, so this is one order's way through
the saga, across functions.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent


def readable(message):
    """A function's JSON log line as `LEVEL message key=value ...` (its spans' fields, such as
    the order id and the event being handled, included); any other line as it is."""
    try:
        line = json.loads(message)
    except ValueError:
        return message
    if not isinstance(line, dict) or "message" not in line:
        return message
    fields = {}
    for span in line.get("spans", []):
        fields.update((k, v) for k, v in span.items() if k not in ("name", "xrayTraceId"))
    fields.update((k, v) for k, v in line.items() if k not in ("timestamp", "level", "message", "spans"))
    return " ".join([line.get("level", ""), line["message"], *(f"{k}={v}" for k, v in fields.items())])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", help="only the lines about this order id")
    parser.add_argument("--since", type=int, default=300, help="start this many seconds back (default 300)")
    parser.add_argument("--endpoint", help="the local cloud (default: the one `make up` started)")
    parser.add_argument("--stack-name", default="cafe")
    args = parser.parse_args()
    endpoint = args.endpoint
    if not endpoint:
        outputs = ROOT / ".cafe" / "outputs.json"
        if not outputs.exists():
            sys.exit("no local cloud: run `make up` first (or pass --endpoint)")
        endpoint = json.loads(outputs.read_text())["Endpoint"]
    logs = boto3.client("logs", endpoint_url=endpoint,
                        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    prefix = f"/aws/lambda/{args.stack_name}-"
    # Per log group, the last timestamp printed and the lines printed at it.
    printed = {}
    since = int((time.time() - args.since) * 1000)
    print(f"following {prefix}* on {endpoint}" + (f", order {args.order}" if args.order else "") + " (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        while True:
            lines = []
            groups = logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
            for group in (g["logGroupName"] for g in groups):
                last, ids = printed.get(group, (since, set()))
                pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=last)
                for event in (e for page in pages for e in page["events"]):
                    # The local cloud gives no event ids: a line is its stream and text.
                    key = (event["logStreamName"], event["message"])
                    if event["timestamp"] == last and key in ids:
                        continue
                    if event["timestamp"] > last:
                        last, ids = event["timestamp"], set()
                    ids.add(key)
                    message = event["message"].rstrip()
                    if args.order and args.order not in message:
                        continue
                    lines.append((event["timestamp"], group.removeprefix(prefix), readable(message)))
                printed[group] = (last, ids)
            for stamp, function, message in sorted(lines):
                clock = time.strftime("%H:%M:%S", time.localtime(stamp / 1000)) + f".{stamp % 1000:03d}"
                print(f"{clock} {function:<16} {message}", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
