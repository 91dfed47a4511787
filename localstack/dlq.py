#!/usr/bin/env python3
"""Lists the saga's dead-lettered messages, or redrives them to where they came from.

    localstack/dlq.py list [QUEUE]       # per queue: how many, and each one's event, order and reason
    localstack/dlq.py redrive [QUEUE]    # send them back (all queues, or e.g. `inventory`)

The saga steps' messages go back to their queue. The bus's (`bus`) are events EventBridge could
not deliver to a step's queue for a day: each goes to the queue it was meant for (its TARGET_ARN).
The order outbox's (`outbox`) are orders table
changes it could never announce: redriving replays them through the outbox function, which
announces them if they now read (after a fix) or dead-letters them again. On AWS the outbox's
stream mapping may also put a batch's stream position there (its on-failure destination); redrive
reads those records from the stream (kept 24 hours) and replays them the same way.

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
CONSUMERS = ["Payment", "Inventory", "Order", "Beverage", "Notify", "Kiosk", "OrderOutbox", "Bus"]


def stack_outputs(cfn, stack_name):
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def receive_all(sqs, url):
    """Every message now visible in a queue (they stay hidden for the visibility timeout)."""
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  VisibilityTimeout=30, AttributeNames=["All"],
                                  MessageAttributeNames=["All"]).get("Messages", [])
        if not got:
            return messages
        messages.extend(got)


def describe(message):
    """What a dead-lettered message is about, and why it was set aside when its step said so."""
    body = message["Body"]
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        what = f"not a cafe event: {body[:60]!r}"
    elif "DDBStreamBatchInfo" in event:  # the AWS on-failure record of a stream batch
        info = event["DDBStreamBatchInfo"]
        what = (f"stream batch of {info.get('batchSize', '?')} from {info.get('startSequenceNumber')} "
                f"to {info.get('endSequenceNumber')}")
    elif "dynamodb" in event:  # an orders table change the outbox set aside
        keys = event["dynamodb"].get("Keys", {})
        what = f"{event.get('eventName', '?')} of order {keys.get('orderId', {}).get('S', '?')}"
    else:
        what = f"{event.get('detail-type', '?')} order {event.get('detail', {}).get('orderId', '?')}"
    attributes = message.get("MessageAttributes", {})
    # Ours say `reason`; EventBridge's say ERROR_MESSAGE.
    reason = (attributes.get("reason") or attributes.get("ERROR_MESSAGE") or {}).get("StringValue")
    return f"{what}  ({reason})" if reason else what


def replay_through_outbox(session, endpoint, outputs, body):
    """Hands orders table changes to the outbox function again, as its stream would."""
    event = json.loads(body)
    if "DDBStreamBatchInfo" in event:
        records = stream_records(session.client("dynamodbstreams", endpoint_url=endpoint), event["DDBStreamBatchInfo"])
    else:
        records = [event]
    answer = session.client("lambda", endpoint_url=endpoint).invoke(
        FunctionName=outputs["OrderOutboxFunctionName"], Payload=json.dumps({"Records": records}, default=str))
    if "FunctionError" in answer:
        sys.exit(f"the outbox failed on the replay ({answer['Payload'].read()[:200]!r}); the message stays")


def stream_records(streams, info):
    """The records of a failed batch, read again from the stream by their sequence numbers."""
    iterator = streams.get_shard_iterator(StreamArn=info["streamArn"], ShardId=info["shardId"],
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
    records, last = [], int(info["endSequenceNumber"])
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in page["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > last:
                return records
            record["eventSourceARN"] = info["streamArn"]
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if hasattr(created, "timestamp"):
                record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
            records.append(record)
        if not page["Records"]:
            return records
        iterator = page.get("NextShardIterator")
    return records


def name(consumer):
    """The queue's name on the command line: `inventory`, ..., `outbox`."""
    return "outbox" if consumer == "OrderOutbox" else consumer.lower()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["list", "redrive"])
    parser.add_argument("queue", nargs="?", help="only this queue (inventory, order, ..., outbox, bus)")
    default_endpoint = os.environ.get("AWS_ENDPOINT_URL")
    outputs_file = ROOT / ".cafe" / "outputs.json"
    if default_endpoint is None and outputs_file.exists():
        default_endpoint = json.loads(outputs_file.read_text()).get("Endpoint")
    parser.add_argument("--endpoint", default=default_endpoint or "http://127.0.0.1:4566")
    parser.add_argument("--stack-name", default="cafe")
    args = parser.parse_args()

    endpoint = args.endpoint or None
    if endpoint:
        # A local cloud takes any keys; on AWS (no endpoint) boto3 finds yours, and your Region.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    session = boto3.session.Session()
    sqs = session.client("sqs", endpoint_url=endpoint)
    outputs = stack_outputs(session.client("cloudformation", endpoint_url=endpoint), args.stack_name)

    consumers = [c for c in CONSUMERS if args.queue is None or name(c) == args.queue.lower()]
    if not consumers:
        sys.exit(f"no queue {args.queue!r}; one of: {', '.join(name(c) for c in CONSUMERS)}")
    total = 0
    for consumer in consumers:
        dlq = outputs[f"{consumer}DeadLetterQueueUrl"]
        messages = receive_all(sqs, dlq)
        total += len(messages)
        print(f"{name(consumer)}: {len(messages)} dead-lettered")
        for message in messages:
            print(f"  {message['MessageId']}  received {message['Attributes'].get('ApproximateReceiveCount', '?')}x  "
                  f"{describe(message)}")
            if args.command == "redrive":
                if consumer == "OrderOutbox":
                    replay_through_outbox(session, endpoint, outputs, message["Body"])
                elif consumer == "Bus":
                    target = message["MessageAttributes"]["TARGET_ARN"]["StringValue"]
                    queue = sqs.get_queue_url(QueueName=target.rsplit(":", 1)[1])["QueueUrl"]
                    sqs.send_message(QueueUrl=queue, MessageBody=message["Body"])
                else:
                    sqs.send_message(QueueUrl=outputs[f"{consumer}QueueUrl"], MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            else:
                # Listing only looked: make the message visible again at once.
                sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
    verb = "redriven" if args.command == "redrive" else "dead-lettered in all"
    print(f"{total} messages {verb}")


if __name__ == "__main__":
    main()
