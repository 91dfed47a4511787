"""The end-to-end part: orders through the REST API, each timed from POST to its notification, and
where that time goes."""

import concurrent.futures
import time
import uuid

from .common import ApiClient, REPORT_DURATION, SAGA_QUEUE_OUTPUTS, aws, parse_utc, stats
from .orders import (
    OrderTally,
    PollPlan,
    drive_customers,
    plan_orders,
    register_kiosks,
    set_stock,
    wait_by_polling_api,
)


def run_end_to_end(stack, args, menu, progress, cpu):
    """N orders from C customers through the API, after one warm-up order per customer; returns the
    figures, the latencies by outcome and the time window (epoch ms) of the measured orders."""
    run = uuid.uuid4().hex[:8]
    customers = [f"bench-{run}-{i}" for i in range(args.customers)]
    warmup = plan_orders(args.customers, args.customers, args.seed + 1, menu)
    plan = plan_orders(args.orders, args.customers, args.seed, menu)
    cups = sum(q for orders in plan for _, q in orders)
    warmup_cups = sum(q for orders in warmup for _, q in orders)
    stock = round(args.stock_fraction * cups)
    api = ApiClient(stack.api_url, stack.operator_token)
    # Enough cups for the warm-up and the chosen share of the measured orders: the stock runs out
    # near the end of the run, and the orders after that are cancelled.
    set_stock(api, warmup_cups + stock)
    api.close()
    kiosks = register_kiosks(stack, args.customers)
    polls = PollPlan()

    def by_api(client, customer_id, token, order_id, deadline):
        return wait_by_polling_api(client, customer_id, token, order_id, polls, deadline)

    tally = OrderTally(args.customers)
    progress.phase(f"end-to-end warm-up: {args.customers} orders (one per customer, not measured)", tally.line)
    # Customers of their own: the measured orders start with first orders, as a kiosk's do.
    drive_customers(stack.api_url, warmup, [f"{c}-warmup" for c in customers], kiosks, by_api, tally, polls.observe)
    wait_for_empty_queues(stack)  # so that the window below holds none of the warm-up's invocations

    tally = OrderTally(args.orders)
    progress.phase(f"end-to-end: {args.orders} orders from {args.customers} customers, {stock} of "
                   f"{cups} cups in stock", tally.line)
    started_ms, start = int(time.time() * 1000), cpu.reading()
    records = drive_customers(stack.api_url, plan, customers, kiosks, by_api, tally, polls.observe)
    usage = cpu.usage(start, len(records))
    wait_for_empty_queues(stack)  # the REPORT lines below then include the orders' trailing invocations
    ended_ms = int(time.time() * 1000)
    final = [r for r in records if r["outcome"] in ("completed", "cancelled")]
    latency = {o: [(r["notified"] - r["sent_wall"]) * 1000 for r in final if o in ("all", r["outcome"])]
               for o in ("all", "completed", "cancelled")}
    observed = {o: [r["seen_ms"] for r in final if o in ("all", r["outcome"])] for o in latency}
    wall = (max((r["notified"] for r in final), default=0) - min((r["sent_wall"] for r in records), default=0))
    stages = stage_breakdown(stack, final, args.customers, progress)
    return {
        "orders": len(records),
        "warmup_orders": args.customers,
        "completed": len(latency["completed"]),
        "cancelled": len(latency["cancelled"]),
        "failed": len(records) - len(final),
        "wall_s": round(wall, 2) if final else None,
        "orders_per_s": round(len(final) / wall, 2) if final and wall > 0 else None,
        "stock_cups": stock,
        "cups_requested": cups,
        "polls_per_order": round(sum(r["polls"] for r in records) / max(1, len(records)), 2),
        "post_ms": stats([r["post_ms"] for r in records]),
        "latency_ms": {o: stats(v) for o, v in latency.items()},
        "observed_ms": {o: stats(v) for o, v in observed.items()},
        "stages_ms": stages,
        "cpu": usage,
    }, latency, (started_ms, ended_ms)


def stage_breakdown(stack, final, workers, progress, sample=300):
    """Where an order's time goes, from the timestamps the functions store: orderDate (order-api),
    madeAt (beverage-events, read back with GET /beverages?orderId= for up to `sample` completed
    orders, after the run) and notificationDate (notify-events)."""
    completed = [r for r in final if r["outcome"] == "completed"][:sample]
    progress.phase(f"end-to-end: reading back when {len(completed)} beverages were made (after the run)")

    def made_at(chunk):
        api = ApiClient(stack.api_url, stack.operator_token)
        try:
            found = {}
            for record in chunk:
                status, beverages = api.request("GET", f"beverages?orderId={record['order_id']}")
                if status == 200 and beverages:
                    found[record["order_id"]] = parse_utc(beverages[0]["madeAt"])
            return found
        finally:
            api.close()

    chunks = [completed[i::workers] for i in range(workers)]
    made = {}
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for found in pool.map(made_at, chunks):
            made.update(found)
    ms = lambda a, b: (b - a) * 1000  # noqa: E731
    return {
        "post_to_order_stored": stats([ms(r["sent_wall"], r["order_stored"]) for r in final]),
        "order_stored_to_beverage_made": stats([ms(r["order_stored"], made[r["order_id"]])
                                                for r in completed if r["order_id"] in made]),
        "beverage_made_to_notification": stats([ms(made[r["order_id"]], r["notified"])
                                                for r in completed if r["order_id"] in made]),
        "order_stored_to_notification": stats([ms(r["order_stored"], r["notified"]) for r in final]),
    }


def queued_messages(sqs, stack, delayed=False):
    """Messages in the saga's five queues, visible or in flight (their URLs from the deploy outputs),
    and with `delayed` the timers not yet due."""
    urls = [stack.outputs[key] for key in SAGA_QUEUE_OUTPUTS if key in stack.outputs]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    names += ["ApproximateNumberOfMessagesDelayed"] if delayed else []
    return sum(int(v) for url in urls for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values())


def wait_for_empty_queues(stack, timeout_s=30):
    """Until the saga's queues are empty: the last orders' trailing work (kiosk updates) has run."""
    sqs = aws(stack.endpoint, "sqs")
    deadline = time.monotonic() + timeout_s
    while queued_messages(sqs, stack) and time.monotonic() < deadline:
        time.sleep(0.2)


def emulator_invocations(stack, window):
    """Every invocation MiniStack made of each function in the window, from the REPORT line it writes
    to the function's log group: how many, and the duration it measured (dispatch to output drained)."""
    found = {}
    if not stack.resources:
        return found
    logs = aws(stack.endpoint, "logs")
    for binary, name in stack.function_names().items():
        durations = []
        kwargs = {"logGroupName": f"/aws/lambda/{name}", "filterPattern": "REPORT",
                  "startTime": window[0], "endTime": window[1]}
        try:
            for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
                durations += [float(m[1]) for e in page["events"]
                              if (m := REPORT_DURATION.search(e["message"])) and e["message"].startswith("REPORT")]
        except logs.exceptions.ResourceNotFoundException:
            pass
        found[binary] = {"invocations": len(durations), "report_ms": stats(durations)}
    return found
