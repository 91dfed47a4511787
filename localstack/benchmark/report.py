"""The report beside bench.json: Markdown tables and an SVG of the latencies."""

import math
from pathlib import Path

from .common import nearest_rank
from .floor import CUSTOMERS_PER_PROCESS

FLOOR_NAMES = {"minimal": "minimal design"}


def latency_svg(series, title):
    """A CDF of each series of latencies (ms) on a log time axis, as plain SVG."""
    width, height, left, right, top, bottom = 800, 430, 70, 20, 40, 95
    values = [v for _, _, _, vs in series for v in vs if v > 0] or [1, 10]
    # The axis runs between the 1-2-5 steps around the data.
    steps = [m * 10 ** e for e in range(-1, 7) for m in (1, 2, 5)]
    lo = max([v for v in steps if v <= min(values)] or [steps[0]])
    hi = min([v for v in steps if v > max(values)] or [steps[-1]])
    x = lambda v: left + (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (width - left - right)  # noqa: E731
    y = lambda f: top + (1 - f) * (height - top - bottom)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{title}</text>']
    for v in (v for v in steps if lo <= v <= hi):
        out.append(f'<line x1="{x(v):.1f}" y1="{top}" x2="{x(v):.1f}" y2="{y(0):.1f}" stroke="#ddd"/>')
        label = f"{v:g}" if v < 1000 else f"{v / 1000:g} s"
        out.append(f'<text x="{x(v):.1f}" y="{y(0) + 16:.1f}" text-anchor="middle">{label}</text>')
    for pct in range(0, 101, 20):
        out.append(f'<line x1="{left}" y1="{y(pct / 100):.1f}" x2="{width - right}" y2="{y(pct / 100):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y(pct / 100) + 4:.1f}" text-anchor="end">{pct}%</text>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{y(0) + 36:.1f}" text-anchor="middle">latency, ms (log scale)</text>')
    out.append(f'<text x="18" y="{(top + y(0)) / 2:.1f}" text-anchor="middle" transform="rotate(-90 18 {(top + y(0)) / 2:.1f})">'
               f'orders at or below</text>')
    for i, (label, color, dash, vs) in enumerate(series):
        xs = sorted(v for v in vs if v > 0)
        if xs:
            points = [f"{x(xs[0]):.1f},{y(0):.1f}"]
            for k, v in enumerate(xs):
                points += [f"{x(v):.1f},{y(k / len(xs)):.1f}", f"{x(v):.1f},{y((k + 1) / len(xs)):.1f}"]
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}" '
                       f'points="{" ".join(points)}"/>')
        lx, ly = left - 50 + (i % 2) * 390, height - 32 + (i // 2) * 18
        p50 = f", p50 {nearest_rank(xs, 50):.0f} ms" if xs else ""
        out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 24}" y2="{ly - 4}" stroke="{color}" stroke-width="2" '
                   f'stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{lx + 30}" y="{ly}">{label} (n={len(xs)}{p50})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def md_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, digits=1):
    return "–" if value is None else f"{value:,.{digits}f}"


def stats_row(label, s):
    return [label, s["count"], fmt(s["p50"]), fmt(s["p90"]), fmt(s["p99"]), fmt(s["max"])]


def markdown_report(r):
    e, f, c = r["end_to_end"], r["floor"], r["config"]
    functions = {fn["binary"]: fn for fn in r["functions"]}
    calls, cost = r["aws_calls"], r["cost"]
    lines = [
        "# Cafe saga benchmark",
        "",
        f"{r['started_at']} · {'quick smoke run' if r['quick'] else 'full run'} · {r['duration_s']:.0f} s · "
        f"endpoint {c['endpoint']} · percentiles nearest-rank · all times in ms",
        "",
        f"**{e['orders']} orders from {c['customers']} concurrent customers: {fmt(e['orders_per_s'], 2)} orders/s, "
        f"p50 {fmt(e['latency_ms']['all']['p50'], 0)} ms, p99 {fmt(e['latency_ms']['all']['p99'], 0)} ms from POST /orders "
        f"to the notification.** Against a minimal design's 10 calls made directly "
        f"({fmt(f['minimal']['concurrent']['orders_per_s'], 2)} orders/s with {c['customers']} customers): throughput "
        f"{fmt(r['ratio']['minimal']['orders_per_s'], 2)}x, the local cloud's CPU per order "
        f"{fmt(r['ratio']['minimal']['cloud_cpu_per_order'], 2)}x, requests per completed order over the floor's calls "
        f"{fmt(r['ratio']['minimal']['calls_per_completed_order'], 2)}x and over the minimal design's requests on AWS "
        f"{fmt(r['ratio']['minimal']['aws_requests_per_completed_order'], 2)}x. "
        f"1 million orders cost ${fmt(cost['per_million_orders_usd']['mix']['total'], 2)} on AWS at list prices; the "
        f"minimal design's ${fmt(cost['minimal_design']['per_million_orders_usd']['mix']['total'], 2)}. "
        f"Machine: {c['cpus']} CPUs, load average {c['load_average_at_start']} at the start.",
        "",
        "## End to end",
        "",
        f"Each customer places one order at a time (a random beverage, 1–3 of them) and waits for its "
        f"notification; {e['warmup_orders']} warm-up orders (one per customer) ran first and are not counted. "
        f"Stock: {e['stock_cups']} of the {e['cups_requested']} cups the orders ask for, so the last orders are cancelled. "
        f"Latency is from just before POST /orders to the notification's own `notificationDate` (same host clock); "
        f"*seen* is when the customer's poll of GET /notifications?customerId= first returned it "
        f"({e['polls_per_order']} polls per order).",
        "",
        md_table(["outcome", "orders", "p50", "p90", "p99", "max"],
                 [stats_row(o, e["latency_ms"][o]) for o in ("completed", "cancelled", "all")]
                 + [stats_row("all, seen by a poll", e["observed_ms"]["all"]), stats_row("POST /orders answer", e["post_ms"])]),
        "",
        f"Throughput: {e['completed'] + e['cancelled']} final orders in {fmt(e['wall_s'], 2)} s = "
        f"**{fmt(e['orders_per_s'], 2)} orders/s** ({e['completed']} completed, {e['cancelled']} cancelled, {e['failed']} failed).",
        "",
        "Where the time goes (timestamps the functions store: `orderDate`, the beverage's `madeAt`, `notificationDate`):",
        "",
        md_table(["stage", "orders", "p50", "p90", "p99", "max"],
                 [stats_row("POST sent → order stored (API Gateway + order-api)", e["stages_ms"]["post_to_order_stored"]),
                  stats_row("order stored → beverage made (outbox, inventory, beverage)", e["stages_ms"]["order_stored_to_beverage_made"]),
                  stats_row("beverage made → notification (order, outbox, notify)", e["stages_ms"]["beverage_made_to_notification"]),
                  stats_row("order stored → notification (all)", e["stages_ms"]["order_stored_to_notification"])]),
        "",
        f"![Latency CDF]({Path(r['files']['svg']).name})",
        "",
        "## The floor: what the local cloud itself allows",
        "",
        f"A minimal design's 10 AWS calls for an order (put the order, OrderPlaced, a conditional cup decrement, its "
        f"event, put the beverage, BeverageMade, the order's status, its event, put the notification, SNS; 8 when "
        f"cancelled), made directly (a bare HTTP client, unsigned, at a fraction of an SDK's CPU) against "
        f"{c['endpoint']} on scratch tables, bus and topic (deleted after), with no queue hop. Floor latency runs "
        f"from the order's first call to storing its notification; the SNS publish after it counts in throughput "
        f"only. Not in it: API Gateway, Lambda, SQS, the DynamoDB stream delivery. It runs "
        f"{f['minimal']['alone']['orders']} orders one at a time, then {f['minimal']['concurrent']['orders']} from "
        f"{c['customers']} customers, whose threads run {CUSTOMERS_PER_PROCESS} to a client process, so that no "
        f"client is the limit (each process's cores below). The saga's own calls are those counted on the real "
        f"run (*AWS calls per order*), not a copy of them.",
        "",
        floors_table(r),
        "",
        ratios_table(r),
        "",
        "The saga's own requests per completed order count every function's call, the platform's SQS requests, "
        "the invocations and the API request (the section *AWS calls per order*). The floor's requests made are "
        "its calls; the minimal design's requests on AWS add to its 10 calls the queue, invocation and API "
        "requests they need there (as its cost below). The floor's calls per order, and each call's latency "
        "with the customers:",
        "",
        md_table(["call", *(f"{FLOOR_NAMES[name]}: {o}" for name in f for o in ("completed", "cancelled")),
                  *(f"{FLOOR_NAMES[name]}: p50, p99" for name in f)],
                 [[call, *(fmt(floor["per_order"][o]["calls"].get(call, 0), 2) for floor in f.values()
                           for o in ("completed", "cancelled")),
                   *(f"{fmt(floor['concurrent']['call_ms'][call]['p50'], 2)}, {fmt(floor['concurrent']['call_ms'][call]['p99'], 2)}"
                     if call in floor["concurrent"]["call_ms"] else "–" for floor in f.values())]
                  for call in sorted({k for floor in f.values() for k in floor["concurrent"]["call_ms"]})]
                 + [[f"DynamoDB {u.upper()}", *(fmt(floor["per_order"][o]["units"][u], 2) for floor in f.values()
                                               for o in ("completed", "cancelled")), *("" for _ in f)]
                    for u in ("rru", "wru")]),
        "",
        "## The emulator's own cost per invocation",
        "",
        "From MiniStack's source (DESIGN.md section 6; not measured by this script):",
        "",
        *[f"- {note}" for note in r["emulator"]["notes"]],
        "",
        "Measured: what MiniStack timed for each invocation during the end-to-end run (its REPORT line, from "
        "dispatch to the function's output drained), beside the same handler alone on this script's Runtime API, "
        "and how many log lines the handler prints per event (none: MiniStack waits the full 50 ms for output):",
        "",
        md_table(["function", "invocations", "per order", "MiniStack p50", "MiniStack p99", "handler alone p50",
                  "log lines per event"],
                 [[b, v["invocations"], fmt(v["invocations"] / max(1, e["orders"]), 2),
                   fmt(v["report_ms"]["p50"]), fmt(v["report_ms"]["p99"]),
                   fmt(functions[b]["warm_ms"]["p50"], 2) if b in functions else "–",
                   fmt(functions[b]["log_lines_per_invocation"], 2) if b in functions else "–"]
                  for b, v in r["emulator"]["invocations"].items() if v["invocations"]]),
        "",
        "(notify-api's invocations are the customers' polls.)",
        "",
        "## Functions",
        "",
        f"Each bootstrap run by this script against its own Runtime API with the deployed function's environment "
        f"(read from Lambda on the counting cloud, whose tables they use, with its event source mappings off). "
        f"Init: spawn to the first GET /next, over {c['init_starts']} starts (the SDK clients are built before that "
        f"poll); goal under 20 ms. Warm: /next answered to /response received, over {c['warm_events']} events after a "
        f"first one that opens the connections. Peak RSS: VmHWM after the warm events.",
        "",
        md_table(["function", "init p50", "init max", "p50 < 20 ms", "first event", "warm p50", "warm p99", "errors",
                  "peak RSS MiB", "log lines/event", "bootstrap MiB", "zip MiB"],
                 [[fn["binary"], fmt(fn["init_ms"]["p50"]), fmt(fn["init_ms"]["max"]), "yes" if fn["init_under_20ms"] else "**no**",
                   fmt(fn["first_invocation_ms"]), fmt(fn["warm_ms"]["p50"], 2), fmt(fn["warm_ms"]["p99"], 2), fn["warm_errors"],
                   fmt(fn["peak_rss_kib"] and fn["peak_rss_kib"] / 1024), fmt(fn["log_lines_per_invocation"], 2),
                   fmt(fn["bootstrap_bytes"] / 2**20, 2), fmt(fn["zip_bytes"] / 2**20, 2)] for fn in r["functions"]]),
        "",
        "Fed to each function:",
        "",
        *[f"- {fn['binary']}: {fn['event']}" for fn in r["functions"]],
        "",
        "## AWS calls per order",
        "",
        *[f"- {line}" for line in calls["method"]],
        "",
        md_table(["service", "per completed order", "per cancelled order", f"per order, mix ({fmt(100 * cost['mix_completed_fraction'], 0)}% completed)"],
                 calls_rows(calls["per_order"])),
        "",
        "## Cost of 1 million orders on AWS",
        "",
        f"{cost['source']}; no free tier.",
        "",
        md_table(["price", "USD"], [[k.replace("_", " "), f"{v:g}"] for k, v in cost["prices"].items()]),
        "",
        "Lambda duration: invocations × the function's measured warm mean (fed one message or request at a time), "
        "rounded up to 1 ms, at 128 MB. "
        "DynamoDB: the units the emulator's capacity accounting reported per call (1 KB writes, 4 KB reads, "
        "transactions 2x, GSI writes included), failed conditions at 1 WRU per item (2 in a transaction).",
        f"Not included: {', '.join(cost['excluded'])}.",
        "",
        md_table(["item (USD per 1M orders)", "completed", "cancelled", "mix"],
                 [[k.replace("_", " "), *(fmt(cost["per_million_orders_usd"][o][k], 2) for o in ("completed", "cancelled", "mix"))]
                  for k in cost["per_million_orders_usd"]["mix"]]
                 + [["**per order**", *(f"${cost['per_order_usd'][o]:.8f}" for o in ("completed", "cancelled", "mix"))]]),
        "",
        f"The minimal design at the same prices: {cost['minimal_design']['method']}",
        "",
        md_table(["item (USD per 1M orders)", "saga, mix", "minimal design, completed", "cancelled", "mix"],
                 [[k.replace("_", " "), fmt(cost["per_million_orders_usd"]["mix"][k], 2),
                   *(fmt(cost["minimal_design"]["per_million_orders_usd"][o][k], 2) for o in ("completed", "cancelled", "mix"))]
                  for k in cost["per_million_orders_usd"]["mix"]]),
        "",
    ]
    return "\n".join(lines)


def floors_table(r):
    """The saga end to end beside each floor, one order at a time and with the customers."""
    e, f, c = r["end_to_end"], r["floor"], r["config"]
    saga = ["saga, end to end", e["orders"], fmt(e["orders_per_s"], 2), fmt(e["latency_ms"]["all"]["p50"]),
            fmt(e["latency_ms"]["all"]["p99"]), fmt(e["cpu"]["cloud_cpu_ms_per_order"]),
            fmt(r["requests_per_completed_order"]["saga"], 2), fmt(r["requests_per_completed_order"]["saga"], 2),
            fmt(e["cpu"]["client_cpu_ms_per_order"]), "–"]
    floors = [[f"{FLOOR_NAMES[name]}, {label}", run["orders"], fmt(run["orders_per_s"], 2),
               fmt(run["latency_ms"]["all"]["p50"]), fmt(run["latency_ms"]["all"]["p99"]),
               fmt(run["cpu"]["cloud_cpu_ms_per_order"]), fmt(floor["per_order"]["completed"]["total_calls"], 2),
               fmt(r["requests_per_completed_order"].get(name), 2),
               fmt(run["cpu"]["client_cpu_ms_per_order"]), fmt(max(p["cores"] for p in run["client_processes"]), 2)]
              for name, floor in f.items()
              for label, run in (("one order at a time", floor["alone"]), (f"{c['customers']} customers", floor["concurrent"]))]
    return md_table(["", "orders", "orders/s", "p50", "p99", "local cloud CPU-ms per order", "requests made per completed order",
                     "its design's AWS requests per completed order", "client CPU-ms per order",
                     "busiest client process, cores"], [saga] + floors)


def ratios_table(r):
    """The saga's figures over each floor's."""
    f, customers = r["floor"], r["config"]["customers"]
    figures = (("orders_per_s", "orders/s"), ("cloud_cpu_per_order", "local cloud CPU per order"),
               ("calls_per_completed_order", "requests made per completed order"),
               ("aws_requests_per_completed_order", "AWS requests per completed order, as each design makes them on AWS"),
               ("p50", f"p50 latency, {customers} customers"), ("p99", f"p99 latency, {customers} customers"),
               ("p50_over_one_at_a_time", "p50 latency ÷ the floor's one order at a time"))
    return md_table(["saga ÷ floor", *(FLOOR_NAMES[name] for name in f)],
                    [[label, *(fmt(r["ratio"][name][key], 2) for name in f)] for key, label in figures])


def summary(r):
    """What `make bench` prints when it ends: the throughput, latency, CPU and calls beside the
    floor's, the ratios and the cost."""
    cost = r["cost"]
    return "\n".join([floors_table(r), "", ratios_table(r), "",
                      f"Cost of 1 million orders at AWS list prices: ${fmt(cost['per_million_orders_usd']['mix']['total'], 2)} "
                      f"(the minimal design's calls: ${fmt(cost['minimal_design']['per_million_orders_usd']['mix']['total'], 2)})."])


def calls_rows(per_order):
    def row(label, get):
        return [label, *(get(per_order[o]) for o in ("completed", "cancelled", "mix"))]
    ops = lambda service, key: sorted(set().union(*(per_order[o][service][key] for o in per_order)))  # noqa: E731
    rows = [row("DynamoDB calls", lambda p: fmt(sum(p["dynamodb"]["calls"].values()), 2))]
    rows += [row(f"&nbsp;&nbsp;{op}", lambda p, op=op: fmt(p["dynamodb"]["calls"].get(op, 0), 2)) for op in ops("dynamodb", "calls")]
    rows += [row("&nbsp;&nbsp;read units (RRU)", lambda p: fmt(p["dynamodb"]["rru"], 2)),
             row("&nbsp;&nbsp;write units (WRU)", lambda p: fmt(p["dynamodb"]["wru"], 2)),
             row("&nbsp;&nbsp;failed conditions", lambda p: fmt(p["dynamodb"]["conditional_failures"], 2)),
             row("EventBridge PutEvents calls", lambda p: fmt(sum(p["eventbridge"]["calls"].values()), 2)),
             row("&nbsp;&nbsp;events", lambda p: fmt(p["eventbridge"]["events"], 2)),
             row("SNS Publish", lambda p: fmt(p["sns"]["publishes"], 2)),
             row("SQS calls by the functions", lambda p: fmt(sum(p["sqs"]["function_calls"].values()), 2)),
             row("SQS by the platform: sends (bus rules)", lambda p: fmt(p["sqs"]["sends"], 2)),
             row("&nbsp;&nbsp;receives, deletes (mapping batches)", lambda p: f"{fmt(p['sqs']['receives'], 2)}, {fmt(p['sqs']['deletes'], 2)}"),
             row("&nbsp;&nbsp;SQS requests billed", lambda p: fmt(p["sqs"]["requests"], 2)),
             row("Lambda invocations", lambda p: fmt(p["lambda"]["total"], 2))]
    rows += [row(f"&nbsp;&nbsp;{b}", lambda p, b=b: fmt(p["lambda"]["invocations"].get(b, 0), 2)) for b in ops("lambda", "invocations")]
    rows += [row("&nbsp;&nbsp;GB-seconds", lambda p: f"{p['lambda']['gb_seconds']:.6f}"),
             row("API Gateway requests", lambda p: fmt(p["apigateway"]["requests"], 2))]
    return rows
