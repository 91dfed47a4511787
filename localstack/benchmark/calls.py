"""AWS calls per order, counted through the proxy, and what a million orders cost at list prices."""

import collections
import math
import re
import time
import uuid

from .common import ApiClient, PRICES, aws, step_record_id
from .orders import OrderTally, drive_customers, plan_orders, register_kiosks, set_stock
from .end_to_end import emulator_invocations, queued_messages


def wait_until_quiet(cloud, stack, quiet_s=1.0, timeout_s=120):
    """Until no saga queue holds a message (the orders' deadline timers included: the counting
    cloud's deadline is COUNTED_DEADLINE_S) and the functions made no AWS call for `quiet_s`."""
    sqs = aws(stack.endpoint, "sqs")
    deadline = time.monotonic() + timeout_s
    last, still_since = None, time.monotonic()
    while time.monotonic() < deadline:
        counts = cloud.proxy.snapshot()
        if counts != last:
            last, still_since = counts, time.monotonic()
        if queued_messages(sqs, stack, delayed=True) == 0 and time.monotonic() - still_since >= quiet_s:
            return
        time.sleep(0.2)
    raise RuntimeError("the counting cloud did not settle")


def count_calls_per_order(cloud, stack, outcome, args, menu, progress):
    """Places orders that all end in `outcome` on the counting cloud and returns what they cost:
    the proxy's counts, MiniStack's event source mapping batches and REPORT lines, between two
    quiet moments. Orders wait for their notification by querying the table directly, past the
    proxy, so waiting adds no counted call."""
    count = args.counted_orders
    api = ApiClient(stack.api_url, stack.operator_token)
    set_stock(api, 1_000_000 if outcome == "completed" else 0)
    api.close()
    kiosks = register_kiosks(stack, args.customers)  # before the count starts: not an order's call
    wait_until_quiet(cloud, stack)
    ddb = aws(stack.endpoint, "dynamodb", args.customers + 4)
    table = stack.resources["NotificationsTable"]

    def by_table(_api, _customer_id, _token, order_id, deadline):
        key = {"notificationId": {"S": step_record_id("notification", order_id)}}
        while time.monotonic() < deadline:
            item = ddb.get_item(TableName=table, Key=key).get("Item")
            if item:
                return {k: v["S"] for k, v in item.items() if "S" in v}, 0
            time.sleep(0.05)
        return None, 0

    run = uuid.uuid4().hex[:8]
    customers = [f"count-{run}-{i}" for i in range(args.customers)]
    tally = OrderTally(count)
    progress.phase(f"calls: {count} orders that are {outcome}, through the counting proxy", tally.line)
    before, offset, started_ms = cloud.proxy.snapshot(), cloud.log_offset(), int(time.time() * 1000)
    records = drive_customers(stack.api_url, plan_orders(count, args.customers, args.seed, menu), customers, kiosks,
                              by_table, tally)
    wait_until_quiet(cloud, stack)
    counts, batches = cloud.proxy.snapshot() - before, cloud.esm_batches(offset, cloud.log_offset())
    invocations = emulator_invocations(stack, (started_ms, int(time.time() * 1000)))
    wrong = [r for r in records if r["outcome"] != outcome]
    if wrong:
        raise RuntimeError(f"{len(wrong)} of the counted orders did not end {outcome}: {wrong[:3]}")
    return counts, batches, {b: v["invocations"] for b, v in invocations.items()}, len(records)


def per_order(counts, batches, invocations, orders, warm_mean_ms):
    """What one order costs, by service, from one counted run (each order was one POST /orders)."""
    def ops(service):
        return {op: round(n / orders, 2) for (s, op), n in sorted(counts.items()) if s == service and not op.startswith("#")}

    sqs_batches = [b for b in batches if b[2] == "SQS messages"]
    # Messages delivered were sent by a bus rule, but for those the functions sent themselves (the
    # deadline timers), which are counted as the functions' calls.
    sends = sum(b[1] for b in sqs_batches) - counts[("sqs", "SendMessage")]
    lambda_invocations = {b: round(n / orders, 2) for b, n in invocations.items() if n}
    # Billed per invocation: the function's warm mean, rounded up to 1 ms, at 128 MB.
    # Functions an order does not invoke (kiosk-live: only a page watching does) cost it nothing.
    gb_seconds = sum(n / orders * math.ceil(warm_mean_ms[b]) / 1000 * PRICES["lambda_memory_mb"] / 1024
                     for b, n in invocations.items() if n)
    return {
        "dynamodb": {"calls": ops("dynamodb"), "rru": round(counts[("dynamodb", "#rru")] / orders, 2),
                     "wru": round(counts[("dynamodb", "#wru")] / orders, 2),
                     "conditional_failures": round(counts[("dynamodb", "#conditional_failures")] / orders, 2),
                     "by_table": units_by_table(counts, orders)},
        "eventbridge": {"calls": ops("events"), "events": round(counts[("events", "#events")] / orders, 2)},
        "sns": {"calls": ops("sns"), "publishes": round(counts[("sns", "Publish")] / orders, 2)},
        # The functions send only the deadline timers; the platform does the rest: the bus's rule
        # sends each message, and the event source mapping receives a batch and deletes it (AWS
        # bills these to the queue's owner). Empty long polls while idle are not per order and
        # are left out.
        "sqs": {"function_calls": ops("sqs"), "sends": round(sends / orders, 2),
                "receives": round(len(sqs_batches) / orders, 2), "deletes": round(len(sqs_batches) / orders, 2),
                "requests": round((sends + 2 * len(sqs_batches) + sum(n for (s, op), n in counts.items()
                                                                     if s == "sqs")) / orders, 2)},
        "lambda": {"invocations": lambda_invocations, "total": round(sum(lambda_invocations.values()), 2),
                   "gb_seconds": round(gb_seconds, 6)},
        "apigateway": {"requests": 1.0},
    }


def requests_per_order(order):
    """Every AWS request an order makes: the functions' calls, the platform's SQS requests, the
    invocations and the API request."""
    return round(sum(order["dynamodb"]["calls"].values()) + sum(order["eventbridge"]["calls"].values())
                 + order["sns"]["publishes"] + order["sqs"]["requests"] + order["lambda"]["total"]
                 + order["apigateway"]["requests"], 2)


MINIMAL_DESIGN_METHOD = (
    "The minimal design's order on AWS, from its floor's calls: its DynamoDB calls and units, events and SNS "
    "publishes as measured; each event delivered to one consumer through one queue (a send, a receive and a "
    "delete: batches of one), one invocation per delivery besides the API's, each billed 1 ms at 128 MB; one "
    "API request.")


def design_per_order(floor_order):
    """A floor's order (its mean calls by "<Service>.<Operation>" and units) in the shape per_order
    returns, as MINIMAL_DESIGN_METHOD says."""
    calls = floor_order["calls"]
    events = calls.get("EventBridge.PutEvents", 0)
    invocations = 1 + events
    return {
        "dynamodb": {"calls": {k.split(".")[1]: v for k, v in calls.items() if k.startswith("DynamoDB.")},
                     "rru": floor_order["units"]["rru"], "wru": floor_order["units"]["wru"], "conditional_failures": 0},
        "eventbridge": {"calls": {"PutEvents": events}, "events": events},
        "sns": {"calls": {"Publish": calls.get("SNS.Publish", 0)}, "publishes": calls.get("SNS.Publish", 0)},
        "sqs": {"function_calls": {}, "sends": events, "receives": events, "deletes": events, "requests": 3 * events},
        "lambda": {"invocations": {"minimal": invocations}, "total": invocations,
                   "gb_seconds": round(invocations * 0.001 * PRICES["lambda_memory_mb"] / 1024, 6)},
        "apigateway": {"requests": 1.0},
    }


def units_by_table(counts, orders):
    """{table's logical id: {calls: {<op>: n}, rru, wru}} per order, from the proxy's per-table counts."""
    found = collections.defaultdict(lambda: {"calls": {}, "rru": 0.0, "wru": 0.0})
    for (service, key), value in sorted(counts.items()):
        if service != "dynamodb" or "@" not in key:
            continue
        kind, table, *op = key.split("@")
        entry = found[re.sub(r"^.+?-(\w+)-[0-9A-Za-z]+$", r"\1", table)]
        if kind == "#calls":
            entry["calls"][op[0]] = round(value / orders, 2)
        else:
            entry[kind[1:]] = round(entry[kind[1:]] + value / orders, 2)
    return dict(sorted(found.items()))


def mix(completed, cancelled, fraction):
    """The per-order figures of a mix of the two outcomes (`fraction` of them completed); what
    only one outcome has counts 0 for the other."""
    if isinstance(completed, dict) or isinstance(cancelled, dict):
        completed, cancelled = completed or {}, cancelled or {}
        return {k: mix(completed.get(k), cancelled.get(k), fraction) for k in sorted(completed.keys() | cancelled.keys())}
    return round(fraction * (completed or 0) + (1 - fraction) * (cancelled or 0), 6)


def cost_per_million(order):
    p = PRICES
    lines = {
        "lambda_requests": order["lambda"]["total"] * p["lambda_per_million_requests"],
        "lambda_duration": order["lambda"]["gb_seconds"] * 1e6 * p["lambda_per_gb_second_x86"],
        "dynamodb_writes": order["dynamodb"]["wru"] * p["dynamodb_on_demand_per_million_wru"],
        "dynamodb_reads": order["dynamodb"]["rru"] * p["dynamodb_on_demand_per_million_rru"],
        "eventbridge": order["eventbridge"]["events"] * p["eventbridge_per_million_custom_events_64kb"],
        "sqs": order["sqs"]["requests"] * p["sqs_standard_per_million_requests_64kb"],
        "sns": order["sns"]["publishes"] * p["sns_per_million_publishes"],
        "apigateway": order["apigateway"]["requests"] * p["apigateway_rest_per_million_requests"],
    }
    lines["total"] = sum(lines.values())
    return {k: round(v, 4) for k, v in lines.items()}
