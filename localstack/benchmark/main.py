"""The command line: runs every part, in an order that keeps them apart, and writes the report."""

import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .common import ApiClient, CpuMeter, EMULATOR_NOTES, PRICES, PRICE_SOURCE, Progress, ROOT, SCHEMA, ratio
from .stacks import OwnCloud, target_stack
from .orders import set_stock
from .end_to_end import emulator_invocations, run_end_to_end
from .floor import run_floor
from .calls import MINIMAL_DESIGN_METHOD, cost_per_million, count_calls_per_order, design_per_order, mix, per_order, requests_per_order
from .functions import EventFeeds, measure_functions
from .report import latency_svg, markdown_report, summary


def parse_args():
    parser = argparse.ArgumentParser(description="Benchmarks the cafe's order saga on the local cloud and writes a report.")
    parser.add_argument("--api-url", help="the REST API's base URL (default: LocalApiUrl of --outputs)")
    parser.add_argument("--outputs", default=str(ROOT / ".cafe/outputs.json"), help="deploy outputs JSON (make up writes it)")
    parser.add_argument("--endpoint", help="the local cloud (default: Endpoint of --outputs, else http://127.0.0.1:4566)")
    parser.add_argument("--stack-name", default="cafe")
    parser.add_argument("--orders", type=int, help="orders to place end to end (default 1000; --quick 20)")
    parser.add_argument("--customers", type=int, help="concurrent customers (default 20; --quick 4)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: every part, small numbers")
    parser.add_argument("--seed", type=int, default=7, help="seed of the orders' beverages and quantities")
    parser.add_argument("--out", default=str(ROOT / "results"), help="folder for bench.json, bench.md, bench-latency.svg")
    args = parser.parse_args()
    args.orders = args.orders or (20 if args.quick else 1000)
    args.customers = args.customers or (4 if args.quick else 20)
    args.floor_orders = args.orders
    args.floor_alone_orders = 10 if args.quick else 50
    args.counted_orders = max(args.customers, min(100, args.orders // 10))
    args.init_starts = 3 if args.quick else 20
    args.warm_events = 10 if args.quick else 100
    args.stock_fraction = 0.8
    return args


def run_all(stack, args, menu, progress):
    """Every measurement, in an order that keeps them apart on a 2-core machine; the counting cloud
    and every process started for it are stopped whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix="cafe-bench-"))
    cloud = None
    try:
        cpu = CpuMeter(stack.endpoint)
        floor, floor_latency = run_floor(stack.endpoint, args, menu, progress, cpu)
        e2e, latency, window = run_end_to_end(stack, args, menu, progress, cpu)
        progress.phase("end-to-end: reading MiniStack's REPORT lines of the run")
        invocations = emulator_invocations(stack, window)

        progress.phase("calls: starting a second MiniStack behind a counting proxy and deploying to it")
        cloud = OwnCloud(workdir, args.stack_name)
        counted_stack = cloud.start()
        counted = {o: count_calls_per_order(cloud, counted_stack, o, args, menu, progress) for o in ("completed", "cancelled")}

        api = ApiClient(counted_stack.api_url, counted_stack.operator_token)
        _, notes = api.request("GET", "notifications")  # a customer and an order for the read APIs
        set_stock(api, 1_000_000)
        api.close()
        feeds = EventFeeds(counted_stack, notes[0]["customerId"], notes[0]["orderId"])
        functions = measure_functions(counted_stack, args, workdir, feeds, progress)
    finally:
        if cloud:
            progress.phase("stopping the counting cloud")
            cloud.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {"floor": floor, "floor_latency": floor_latency, "e2e": e2e, "latency": latency,
            "invocations": invocations, "counted": counted, "functions": functions}


def floor_ratios(e2e, saga_requests, floor, on_aws):
    """The saga over one floor: throughput, the local cloud's CPU per order, the requests of a
    completed order (`saga_requests`) over the calls the floor made and over `on_aws`, the requests
    the floor's design would make on AWS (None: not a design of its own), latency."""
    loaded, saga = floor["concurrent"], e2e["latency_ms"]["all"]
    return {
        "orders_per_s": ratio(e2e["orders_per_s"], loaded["orders_per_s"]),
        "cloud_cpu_per_order": ratio(e2e["cpu"]["cloud_cpu_ms_per_order"], loaded["cpu"]["cloud_cpu_ms_per_order"]),
        "calls_per_completed_order": ratio(saga_requests, floor["per_order"]["completed"]["total_calls"]),
        "aws_requests_per_completed_order": ratio(saga_requests, on_aws),
        "p50": ratio(saga["p50"], loaded["latency_ms"]["all"]["p50"]),
        "p99": ratio(saga["p99"], loaded["latency_ms"]["all"]["p99"]),
        "p50_over_one_at_a_time": ratio(saga["p50"], floor["alone"]["latency_ms"]["all"]["p50"]),
    }


def build_report(args, stack, m, started_at, duration_s, load_at_start, files):
    """The JSON report (schema at the top of this file) from the measurements `m` of run_all."""
    e2e, floor, counted = m["e2e"], m["floor"], m["counted"]
    warm_mean = {fn["binary"]: fn["warm_ms"]["mean"] for fn in m["functions"]}
    per = {o: per_order(*counted[o], warm_mean) for o in ("completed", "cancelled")}
    final = e2e["completed"] + e2e["cancelled"]
    fraction = round(e2e["completed"] / final, 4) if final else 1.0
    per["mix"] = mix(per["completed"], per["cancelled"], fraction)
    costs = {o: cost_per_million(per[o]) for o in per}
    minimal = {o: design_per_order(floor["minimal"]["per_order"][o]) for o in ("completed", "cancelled")}
    minimal["mix"] = mix(minimal["completed"], minimal["cancelled"], fraction)
    # A completed order's requests, its platform's counted (queue deliveries, invocations, the API
    # request): the saga's, and the minimal design's as it would make them on AWS.
    requests = {"saga": requests_per_order(per["completed"]), "minimal": requests_per_order(minimal["completed"])}
    return {
        "schema": SCHEMA,
        "started_at": started_at,
        "duration_s": duration_s,
        "quick": args.quick,
        "config": {"orders": args.orders, "customers": args.customers, "floor_orders": args.floor_orders,
                   "floor_alone_orders": args.floor_alone_orders, "cpus": os.cpu_count(),
                   "load_average_at_start": load_at_start,
                   "counted_orders_per_outcome": args.counted_orders, "init_starts": args.init_starts,
                   "warm_events": args.warm_events, "stock_fraction": args.stock_fraction, "seed": args.seed,
                   "endpoint": stack.endpoint, "api_url": stack.api_url, "stack_name": args.stack_name,
                   "percentiles": "nearest-rank"},
        "end_to_end": e2e,
        "floor": floor,
        "requests_per_completed_order": requests,
        "ratio": {name: floor_ratios(e2e, requests["saga"], f, requests.get(name)) for name, f in floor.items()},
        "emulator": {"notes": EMULATOR_NOTES, "invocations": m["invocations"]},
        "functions": m["functions"],
        "aws_calls": {
            "method": [
                f"Counted on a second MiniStack started by this script: {args.counted_orders} orders that all complete "
                f"(stock 1,000,000) and {args.counted_orders} that are all cancelled (stock 0), {args.customers} customers "
                f"placing one at a time, each window between two quiet moments (no queued message, no call for 1 s).",
                "DynamoDB, EventBridge, SNS, SQS by the functions: every request the functions sent, through a proxy at "
                "MiniStack's AWS_ENDPOINT_URL, by SigV4 service and operation; DynamoDB units from the ConsumedCapacity "
                "the proxy asked for (ReturnConsumedCapacity TOTAL).",
                "SQS by the platform: MiniStack's event source mapping log, one line per batch with its message count. "
                "Each message was one SendMessage by a bus rule; each batch is one ReceiveMessage and one "
                "DeleteMessageBatch, as Lambda's pollers make them on AWS, where they are billed to the queue's owner. "
                "Empty polls while idle are not per order and are left out.",
                "Each order's deadline timer (an SQS message delayed by OrderDeadlineSeconds, then order-events) is in "
                "the count: the counting stack is deployed with OrderDeadlineSeconds=10 and each window waits for the "
                "delayed messages too.",
                "DynamoDB stream reads (orders table -> order-outbox) are free on AWS when Lambda reads them; not counted.",
                "Lambda invocations: REPORT lines MiniStack wrote in each function's log group in the window "
                "(batching under this load sets how many).",
                "API Gateway: the one POST /orders per order; the kiosk's or this benchmark's polls are not part of the order.",
                f"Mix: weighted by the end-to-end run's outcomes ({fraction:.0%} completed).",
            ],
            "orders": {o: counted[o][3] for o in ("completed", "cancelled")},
            "per_order": per,
        },
        "cost": {
            "prices": PRICES, "source": PRICE_SOURCE,
            "excluded": ["SMS (priced per message and country; these orders carry no phone number)",
                         "CloudWatch Logs and X-Ray (Tracing: Active)", "DynamoDB storage, streams and PITR",
                         "idle SQS polling", "data transfer", "free tiers"],
            "mix_completed_fraction": fraction,
            "per_million_orders_usd": costs,
            "per_order_usd": {o: round(costs[o]["total"] / 1e6, 10) for o in costs},
            "minimal_design": {"method": MINIMAL_DESIGN_METHOD, "per_order": minimal,
                               "per_million_orders_usd": {o: cost_per_million(minimal[o]) for o in minimal}},
        },
        "files": files,
    }


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-ups on a plain kill too
    progress = Progress()
    started, started_at = time.monotonic(), datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    stack = target_stack(args)
    load_at_start = round(os.getloadavg()[0], 2)  # other work on the machine shows in every figure
    api = ApiClient(stack.api_url)
    status, menu = api.request("GET", "menu")
    api.close()
    if status != 200:
        sys.exit(f"GET {stack.api_url}menu answered {status}: is the cafe deployed there?")
    try:
        measured = run_all(stack, args, [item["beverageName"] for item in menu], progress)
    finally:
        progress.stop.set()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": str(out / "bench.json"), "markdown": str(out / "bench.md"), "svg": str(out / "bench-latency.svg")}
    report = build_report(args, stack, measured, started_at, round(time.monotonic() - started, 1), load_at_start, files)
    Path(files["json"]).write_text(json.dumps(report, indent=2) + "\n")
    latency, floor_latency = measured["latency"], measured["floor_latency"]
    Path(files["svg"]).write_text(latency_svg([
        ("completed", "#1b9e77", "none", latency["completed"]),
        ("cancelled", "#d95f02", "none", latency["cancelled"]),
        (f"minimal design, {args.customers} customers", "#e7298a", "6 4", floor_latency["minimal"]["concurrent"]),
        ("minimal design, one at a time", "#a6761d", "2 3", floor_latency["minimal"]["alone"]),
    ], f"Order latency, POST /orders → notification: {report['end_to_end']['orders']} orders, {args.customers} customers"))
    Path(files["markdown"]).write_text(markdown_report(report))
    print(summary(report), flush=True)
    progress.log(f"done in {report['duration_s']:.0f} s: {files['markdown']}")
