#!/usr/bin/env python3
"""Lists the saga's dead-lettered messages, or redrives them to the queues they came from.

    localstack/dlq.py list               # per queue: how many, and each message's event and order
    localstack/dlq.py redrive [QUEUE]    # move them back (all queues, or e.g. `inventory`)

It finds the queues in the stack's outputs (`<Name>QueueUrl` and `<Name>DeadLetterQueueUrl`), so it
works against the local cloud (default: the endpoint `up.sh` used) and, with `--endpoint ''`, AWS.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
CONSUMERS = ["Inventory", "Order", "Beverage", "Notify", "Kiosk"]


def stack_outputs(cfn, stack_name):
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def receive_all(sqs, url):
    """Every message now visible in a queue (they stay hidden for the visibility timeout)."""
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  VisibilityTimeout=30, AttributeNames=["All"]).get("Messages", [])
        if not got:
            return messages
        messages.extend(got)


def describe(body):
    try:
        event = json.loads(body)
        return f"{event.get('detail-type', '?')} order {event.get('detail', {}).get('orderId', '?')}"
    except (ValueError, AttributeError):
        return f"not a cafe event: {body[:60]!r}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["list", "redrive"])
    parser.add_argument("queue", nargs="?", help="only this consumer's queue (inventory, order, ...)")
    default_endpoint = os.environ.get("AWS_ENDPOINT_URL")
    outputs_file = ROOT / ".cafe" / "outputs.json"
    if default_endpoint is None and outputs_file.exists():
        default_endpoint = json.loads(outputs_file.read_text()).get("Endpoint")
    parser.add_argument("--endpoint", default=default_endpoint or "http://127.0.0.1:4566")
    parser.add_argument("--stack-name", default="cafe")
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    session = boto3.session.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    endpoint = args.endpoint or None
    sqs = session.client("sqs", endpoint_url=endpoint)
    outputs = stack_outputs(session.client("cloudformation", endpoint_url=endpoint), args.stack_name)

    consumers = [c for c in CONSUMERS if args.queue is None or c.lower() == args.queue.lower()]
    if not consumers:
        sys.exit(f"no queue {args.queue!r}; one of: {', '.join(c.lower() for c in CONSUMERS)}")
    total = 0
    for consumer in consumers:
        dlq, source = outputs[f"{consumer}DeadLetterQueueUrl"], outputs[f"{consumer}QueueUrl"]
        messages = receive_all(sqs, dlq)
        total += len(messages)
        print(f"{consumer.lower()}: {len(messages)} dead-lettered")
        for message in messages:
            print(f"  {message['MessageId']}  received {message['Attributes'].get('ApproximateReceiveCount', '?')}x  "
                  f"{describe(message['Body'])}")
            if args.command == "redrive":
                sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            else:
                # Listing only looked: make the message visible again at once.
                sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
    verb = "redriven to their queues" if args.command == "redrive" else "dead-lettered in all"
    print(f"{total} messages {verb}")


if __name__ == "__main__":
    main()
