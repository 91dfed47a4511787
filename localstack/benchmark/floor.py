"""The floor: the AWS calls of an order made directly (floor_orders.BareService), which is what
the local cloud itself allows with no Lambda and no API Gateway in between:
  minimal     a minimal design's 10 calls (floor_orders.MinimalCalls)
It is driven from one client process per customer, so that no client is the limit; each
process's CPU is measured and reported. (The saga's own calls are counted on the real run, by
the counting proxy: see calls.py.)"""

import collections
import multiprocessing
import queue
import sys
import time
import uuid

import botocore.exceptions
import yaml
from deploy import CfnLoader

from .common import ROOT, STOCK, aws, stats
from .floor_orders import FLOORS, Clients
from .orders import ORDERS_PER_CUSTOMER, OrderTally, plan_orders

# Customers per client process (each customer a thread with its own connections).
CUSTOMERS_PER_PROCESS = 1


class FloorResources:
    """Scratch copies of what one order touches, on the endpoint under test: template.yaml's tables
    (their keys, indexes and streams, so each write costs what the stack's does), a bus without
    rules and a topic."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.name = f"cafe-bench-floor-{uuid.uuid4().hex[:8]}"
        ddb, events, sns = (aws(endpoint, s) for s in ("dynamodb", "events", "sns"))
        template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
        self.tables = [logical for logical, res in template["Resources"].items() if res["Type"] == "AWS::DynamoDB::Table"]
        for logical in self.tables:
            spec = {k: v for k, v in template["Resources"][logical]["Properties"].items()
                    if k in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")}
            if "StreamSpecification" in template["Resources"][logical]["Properties"]:
                spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            ddb.create_table(TableName=self.table(logical), **spec)
        events.create_event_bus(Name=self.name)
        self.topic = sns.create_topic(Name=self.name)["TopicArn"]

    def table(self, logical):
        return f"{self.name}-{logical}"

    def set_stock(self, cups):
        aws(self.endpoint, "dynamodb").put_item(TableName=self.table("InventoryTable"), Item={
            "stockName": {"S": STOCK}, "entry": {"S": "STOCK"}, "qty": {"N": str(cups)},
            "updatedAt": {"S": "2026-01-01T00:00:00Z"}})

    def delete(self):
        """Deletes every scratch resource, going on past one that fails (each failure is printed),
        so that one leftover does not leave the rest behind."""
        ddb, events, sns = (aws(self.endpoint, s) for s in ("dynamodb", "events", "sns"))
        deletions = [(ddb.delete_table, {"TableName": self.table(logical)}) for logical in self.tables]
        deletions += [(events.delete_event_bus, {"Name": self.name}), (sns.delete_topic, {"TopicArn": self.topic})]
        for delete, names in deletions:
            try:
                delete(**names)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
                print(f"floor: could not delete {names}: {error}", file=sys.stderr, flush=True)


def client_process(floor, res, customers, ready, go, results):
    """One client process: its customers' threads place their orders once `go` is set; each order's
    result, then this process's CPU and wall time, go back through `results`."""
    import concurrent.futures  # noqa: PLC0415 (in the child)

    clients = Clients(res.endpoint)
    workers = {index: FLOORS[floor](clients, res, index) for index, _ in customers}
    run = uuid.uuid4().hex[:8]
    ready.release()
    go.wait()
    cpu, wall = time.process_time(), time.monotonic()

    def customer(index, plan):
        worker = workers[index]
        for n, (beverage, qty) in enumerate(plan):
            # New customer ids as often as the saga's customers take them (ORDERS_PER_CUSTOMER).
            customer_id = f"floor-{run}-{index}-{n // ORDERS_PER_CUSTOMER}"
            outcome, ms = worker.order(customer_id, beverage, qty, n % ORDERS_PER_CUSTOMER == 0)
            results.put(("order", outcome, ms, dict(worker.calls), dict(worker.units)))
            worker.calls.clear()
            worker.units.clear()

    with concurrent.futures.ThreadPoolExecutor(len(customers)) as pool:
        list(pool.map(lambda c: customer(*c), customers))
    call_ms = collections.defaultdict(list)
    for worker in workers.values():
        for name, values in worker.call_ms.items():
            call_ms[name] += values
    results.put(("done", time.process_time() - cpu, time.monotonic() - wall, dict(call_ms)))


def floor_round(res, floor, plan, stock_fraction, progress, label, cpu):
    """One floor's orders of `plan` (one thread per customer, CUSTOMERS_PER_PROCESS to a process):
    its figures, latencies and each order's calls."""
    res.set_stock(round(stock_fraction * sum(q for orders in plan for _, q in orders)))
    count = sum(len(orders) for orders in plan)
    processes = -(-len(plan) // CUSTOMERS_PER_PROCESS)
    # spawn: a fresh interpreter per process (a fork would copy this one's threads' locks).
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
    customers = list(enumerate(plan))
    children = [context.Process(target=client_process, daemon=True,
                                args=(floor, res, customers[i::processes], ready, go, results))
                for i in range(processes)]
    for child in children:
        child.start()
    finished = False
    try:
        for _ in children:
            if not ready.acquire(timeout=120):
                raise RuntimeError("a floor client process did not start")
        tally = OrderTally(count)
        progress.phase(f"floor {floor}, {label}: {count} orders' AWS calls made directly, {len(plan)} "
                       f"customers in {processes} processes", tally.line)
        start = cpu.reading()
        go.set()
        orders, done = [], []
        while len(done) < processes:
            try:
                message = results.get(timeout=5)
            except queue.Empty:
                # A child that sent "done" exits 0 while others still run: only a failed one ends the round.
                if any(child.exitcode not in (None, 0) for child in children):
                    raise RuntimeError(f"a floor client process failed (exit codes {[c.exitcode for c in children]})")
                continue
            if message[0] == "order":
                orders.append(message[1:])
                tally.add(placed=1, **{message[1]: 1})
            else:
                done.append(message[1:])
        usage = cpu.usage(start, len(orders))
        finished = True
    finally:
        # After a failure the others would go on calling the cloud the next part measures: stop them.
        for child in children:
            child.join(10 if finished else 0)
            if child.is_alive():
                child.terminate()
                child.join(5)
    # The clients are these processes, not this one: their CPU is the client's.
    client_s = sum(cpu_s for cpu_s, _, _ in done)
    usage.update(client_cpu_s=round(client_s, 2), client_cpu_ms_per_order=round(client_s * 1000 / len(orders), 2))
    wall = max(wall_s for _, wall_s, _ in done)
    latency = {o: [ms for outcome, ms, _, _ in orders if o in ("all", outcome)] for o in ("all", "completed", "cancelled")}
    call_ms = collections.defaultdict(list)
    for _, _, process_calls in done:
        for name, values in process_calls.items():
            call_ms[name] += values
    summary = {
        "orders": len(orders), "customers": len(plan),
        "completed": len(latency["completed"]), "cancelled": len(latency["cancelled"]),
        "wall_s": round(wall, 2), "orders_per_s": round(len(orders) / wall, 2),
        "latency_ms": {o: stats(v) for o, v in latency.items()},
        "call_ms": {name: stats(values) for name, values in sorted(call_ms.items())},
        "client_processes": [{"cpu_s": round(cpu_s, 2), "wall_s": round(wall_s, 2), "cores": round(cpu_s / wall_s, 2)}
                             for cpu_s, wall_s, _ in done],
        "cpu": usage,
    }
    return summary, latency, orders


def per_order(orders):
    """Each outcome's mean calls by "<Service>.<Operation>" and DynamoDB units per order."""
    found = {}
    for outcome in ("completed", "cancelled"):
        chosen = [(calls, units) for o, _, calls, units in orders if o == outcome]
        calls = sum((collections.Counter(c) for c, _ in chosen), collections.Counter())
        units = sum((collections.Counter(u) for _, u in chosen), collections.Counter())
        n = max(1, len(chosen))
        found[outcome] = {"calls": {k: round(v / n, 2) for k, v in sorted(calls.items())},
                          "total_calls": round(sum(calls.values()) / n, 2) if chosen else None,
                          "units": {k: round(units[k] / n, 2) for k in ("rru", "wru")}}
    return found


def run_floor(endpoint, args, menu, progress, cpu):
    """The floor twice: one order at a time (each call's own cost, nothing queued beside it), then
    with the customers' concurrency (what the cloud sustains, and its CPU per order)."""
    res = FloorResources(endpoint)
    found, latencies = {}, {}
    try:
        for floor in FLOORS:
            alone, alone_latency, _ = floor_round(res, floor, plan_orders(args.floor_alone_orders, 1, args.seed, menu),
                                                  args.stock_fraction, progress, "one order at a time", cpu)
            loaded, loaded_latency, orders = floor_round(
                res, floor, plan_orders(args.floor_orders, args.customers, args.seed, menu), args.stock_fraction,
                progress, f"{args.customers} customers", cpu)
            found[floor] = {"alone": alone, "concurrent": loaded, "per_order": per_order(orders)}
            latencies[floor] = {"alone": alone_latency["all"], "concurrent": loaded_latency["all"]}
    finally:
        res.delete()
    return found, latencies
