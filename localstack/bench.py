#!/usr/bin/env python3
"""Benchmarks the cafe's order saga on the local cloud and writes a report (JSON, Markdown, SVG).

    make bench   # = .venv/bin/python localstack/bench.py [--quick] [--orders N] [--customers C] [--out DIR]

It benchmarks the stack `make up` deployed (its outputs: .cafe/outputs.json) in four parts:
  floor       the AWS calls one order needs, made directly with boto3 against the same endpoint, one
              order at a time and then with the same concurrency (scratch tables, bus, queues and
              topic, deleted afterwards): what the local cloud itself allows, with no Lambda and no
              API Gateway in between; and the cloud's CPU per order for both.
  end-to-end  N orders from C concurrent customers through the REST API, each customer placing one
              order at a time; each order is timed from POST /orders to its notification.
  calls       AWS calls per order by service, counted on a second MiniStack this script starts on
              free ports, whose functions reach the cloud through a counting proxy (MiniStack hands
              its own AWS_ENDPOINT_URL to every function); from the counts, the cost of 1M orders.
  functions   every bootstrap in target/lambda/, run by this script against its own Lambda Runtime
              API: init (process start to the first /next poll), warm handler durations, peak RSS.

Statistics: percentiles are nearest-rank (the smallest measured value with at least p% of the values
at or below it), so every percentile is a measured value. Times are milliseconds.

JSON schema of <out>/bench.json ("schema": "cafe-bench/1"; the same keys in every run, --quick or
not; a figure that could not be measured is null). Stats = {count, min, p50, p90, p99, max, mean};
Cpu = {wall_s, client_cpu_s, cloud_cpu_s, client_cpu_ms_per_order, cloud_cpu_ms_per_order,
cloud_cores_busy} (client: this script; cloud: the local cloud's process and the function processes
it started; null when that process is not on this machine).
  schema, started_at (UTC ISO-8601), duration_s, quick
  config      {orders, customers, floor_orders, floor_alone_orders, cpus, load_average_at_start,
               counted_orders_per_outcome, init_starts, warm_events, stock_fraction, seed, endpoint,
               api_url, stack_name, percentiles}
  end_to_end  {orders, warmup_orders, completed, cancelled, failed, wall_s, orders_per_s, stock_cups,
               cups_requested, polls_per_order, post_ms: Stats, cpu: Cpu,
               latency_ms:  {all, completed, cancelled: Stats}   POST sent -> notificationDate
               observed_ms: {all, completed, cancelled: Stats}   POST sent -> a poll returned it
               stages_ms: {post_to_order_stored, order_stored_to_beverage_made,
                           beverage_made_to_notification, order_stored_to_notification: Stats}}
  floor       {alone, concurrent: {orders, customers, completed, cancelled, wall_s, orders_per_s,
                                   latency_ms: {all, completed, cancelled: Stats},
                                   call_ms: {"<Service>.<Operation>": Stats}},
               calls_per_order: {completed, cancelled: {"<Service>.<Operation>": float}}, cpu: Cpu}
  ratio       {saga_p50_over_floor_alone_p50, saga_p50_over_floor_p50, saga_p99_over_floor_p99,
               saga_orders_per_s_over_floor, saga_cloud_cpu_per_order_over_floor}
  emulator    {notes: [str], invocations: {<binary>: {invocations, report_ms: Stats}}}
  functions   [{binary, function_name, zip_bytes, bootstrap_bytes, init_ms: Stats, init_under_20ms,
                init_rss_kib, first_invocation_ms, warm_ms: Stats, warm_errors, peak_rss_kib,
                log_lines_per_invocation, event}]          (RSS: VmHWM, at the first poll / after warm)
  aws_calls   {method: [str], orders: {completed, cancelled},
               per_order: {completed, cancelled, mix: PerOrder}}
              PerOrder = {dynamodb: {calls: {<op>: n}, rru, wru, conditional_failures},
                          eventbridge: {calls: {<op>: n}, events}, sns: {calls: {<op>: n}, publishes},
                          sqs: {function_calls: {<op>: n}, sends, receives, deletes, requests},
                          lambda: {invocations: {<binary>: n}, total, gb_seconds},
                          apigateway: {requests}}
  cost        {prices: {...}, source, excluded: [str], mix_completed_fraction,
               per_million_orders_usd: {completed, cancelled, mix: {lambda_requests, lambda_duration,
                   dynamodb_writes, dynamodb_reads, eventbridge, sqs, sns, apigateway, total}},
               per_order_usd: {completed, cancelled, mix}}
  files       {json, markdown, svg}
"""

import argparse
import collections
import concurrent.futures
import datetime
import http.client
import http.server
import json
import math
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zipfile
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import yaml

from deploy import CfnLoader  # localstack/deploy.py: reads template.yaml's !Ref/!GetAtt tags

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
SCHEMA = "cafe-bench/1"
REGION = "us-east-1"
STOCK = "cup"

# AWS list prices, us-east-1, as of 2026 (aws.amazon.com/<service>/pricing); no free tier applied.
PRICES = {
    "lambda_per_million_requests": 0.20,
    "lambda_per_gb_second_x86": 0.0000166667,
    "lambda_memory_mb": 128,
    "dynamodb_on_demand_per_million_wru": 0.625,
    "dynamodb_on_demand_per_million_rru": 0.125,
    "eventbridge_per_million_custom_events_64kb": 1.00,
    "sqs_standard_per_million_requests_64kb": 0.40,
    "sns_per_million_publishes": 0.50,
    "apigateway_rest_per_million_requests": 3.50,
}
PRICE_SOURCE = "AWS list price as of 2026, us-east-1 (aws.amazon.com/lambda|dynamodb|eventbridge|sqs|sns|api-gateway/pricing)"

# DESIGN.md section 6: what the emulator adds per invocation (read in its source, not measured here).
EMULATOR_NOTES = [
    "after each provided.* invocation MiniStack waits for the function's output: up to 50 ms when it "
    "printed nothing, about 5 ms after a printed line",
    "its Runtime API sends /next in two writes without TCP_NODELAY: a keep-alive client can wait a "
    "delayed ACK, about 40 ms, per event",
    "an SQS event source mapping runs at most 5 batches at once (ScalingConfig.MaximumConcurrency) and "
    "pauses 1 s after a failed invoke",
    "DynamoDB stream batches (orders table -> order-outbox) are invoked inline by the one poller thread "
    "that also dispatches every SQS batch (MiniStack 1.5.33, services/lambda_svc.py _poll_dynamodb_streams)",
]

# The functions in saga order; the function phase feeds them in this order (order-api makes the
# pending orders that order-outbox and order-events are then fed).
BINARIES = ["order-api", "order-outbox", "order-events", "inventory-api", "inventory-events",
            "beverage-api", "beverage-events", "notify-api", "notify-events", "kiosk-api", "kiosk-events"]

SAGA_QUEUE_OUTPUTS = [f"{c}QueueUrl" for c in ("Inventory", "Order", "Beverage", "Notify", "Kiosk")]
ESM_LINE = re.compile(r"ESM: Lambda (\S+) processed (\d+) (SQS messages|DynamoDB stream records) from (\S+)")
REPORT_DURATION = re.compile(r"Duration: ([\d.]+) ms")


# ------------------------------------------------------------------------------------------- statistics

def nearest_rank(sorted_values, p):
    """The p-th percentile by nearest rank: the value at rank ceil(p/100 * n)."""
    return sorted_values[max(1, math.ceil(p / 100 * len(sorted_values))) - 1]


def stats(values):
    xs = sorted(values)
    if not xs:
        return dict.fromkeys(["count", "min", "p50", "p90", "p99", "max", "mean"], None) | {"count": 0}
    return {
        "count": len(xs),
        "min": round(xs[0], 2),
        "p50": round(nearest_rank(xs, 50), 2),
        "p90": round(nearest_rank(xs, 90), 2),
        "p99": round(nearest_rank(xs, 99), 2),
        "max": round(xs[-1], 2),
        "mean": round(sum(xs) / len(xs), 2),
    }


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def parse_utc(text):
    """Epoch seconds of an RFC 3339 UTC time as chrono writes it (nanosecond fraction, 'Z')."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(?:Z|\+00:00)", text)
    whole = datetime.datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    fraction = int(m[2]) / 10 ** len(m[2]) if m[2] else 0.0
    return whole.timestamp() + fraction


# ------------------------------------------------------------------------------------------- plumbing

class Progress:
    """Prints a status line every second while a phase runs, so a long run shows where it is."""

    def __init__(self):
        self.started = time.monotonic()
        self.status = lambda: "starting"
        self.stop = threading.Event()
        threading.Thread(target=self._tick, daemon=True).start()

    def phase(self, name, status=None):
        self.status = status or (lambda: "")
        self.log(f"{name}")

    def log(self, message):
        print(f"[bench {time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def _tick(self):
        while not self.stop.wait(1.0):
            if status := self.status():
                self.log(f"  {status}")


class ApiClient:
    """One keep-alive HTTP connection to the cafe's REST API (one per thread), calling with `token`
    (the operator's, for stock and everyone's data) unless a request names its own."""

    def __init__(self, base_url, token=None):
        url = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.prefix = url.hostname, url.port or 80, url.path.rstrip("/") + "/"
        self.conn, self.token = None, token

    def request(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"}
        if token or self.token:
            headers["authorization"] = f"Bearer {token or self.token}"
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.conn.request(method, self.prefix + path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                try:
                    return response.status, json.loads(raw) if raw else None
                except ValueError:
                    return response.status, raw.decode(errors="replace")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed the idle keep-alive connection before reading the request: resend once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()


def aws(endpoint, service, pool=10):
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    config = botocore.config.Config(max_pool_connections=pool, retries={"max_attempts": 3, "mode": "standard"},
                                    read_timeout=60)
    return session.client(service, endpoint_url=endpoint, config=config)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(endpoint):
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def listening_pid(port):
    """The process listening on this TCP port on this machine, or None (not found or not readable)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    return None


def process_tree_cpu_s(root):
    """CPU seconds of a process and its descendants: each live one's own time plus what the kernel
    added to it for the children it reaped (the function processes MiniStack started and ended)."""
    children, cpu = collections.defaultdict(list), {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(pid))
        cpu[int(pid)] = sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo += children[pid]
    return total


class CpuMeter:
    """CPU time over a phase: this script's (its client threads) and the local cloud's (the process
    listening on the endpoint's port and the function processes it started). On a 2-core machine
    the two compete, so what the client burns is not available to the cloud; the cloud's CPU per
    order says what the cloud itself spent. Null when the cloud's process is not readable here
    (e.g. LocalStack in Docker)."""

    def __init__(self, endpoint):
        self.cloud_pid = listening_pid(urllib.parse.urlsplit(endpoint).port or 80)

    def reading(self):
        return time.monotonic(), time.process_time(), process_tree_cpu_s(self.cloud_pid) if self.cloud_pid else None

    def usage(self, start, orders):
        wall, client, cloud = (b - a if a is not None else None for a, b in zip(start, self.reading()))
        per_order = lambda s: round(s * 1000 / orders, 2) if s is not None and orders else None  # noqa: E731
        return {"wall_s": round(wall, 2), "client_cpu_s": round(client, 2),
                "cloud_cpu_s": round(cloud, 2) if cloud is not None else None,
                "client_cpu_ms_per_order": per_order(client), "cloud_cpu_ms_per_order": per_order(cloud),
                "cloud_cores_busy": round(cloud / wall, 2) if cloud is not None else None}


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that does not print a traceback when a client hangs up."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            super().handle_error(request, client_address)


class NoDelayHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive with TCP_NODELAY: each write leaves at once, so no delayed ACK (the ~40 ms
    DESIGN.md section 6 describes for MiniStack's Runtime API) is added to what is measured through it."""
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# ------------------------------------------------------------------------------------------- stacks

class Stack:
    """A deployed cafe stack: endpoint, API URL, outputs, and its resources by logical id."""

    def __init__(self, endpoint, api_url, outputs, stack_name):
        self.endpoint, self.api_url, self.outputs, self.stack_name = endpoint, api_url, outputs, stack_name
        self.resources = {}
        try:
            pages = aws(endpoint, "cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name)
            self.resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                              for page in pages for r in page["StackResourceSummaries"]}
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            # e.g. LocalStack deployed another way: the parts that need function names are left empty
            print(f"[bench] no CloudFormation stack {stack_name!r} at {endpoint}: {error}", flush=True)

    @property
    def operator_token(self):
        """The operator's bearer token: the value of the stack's OperatorTokenSecretArn secret."""
        if not hasattr(self, "_operator_token"):
            secret = self.outputs["OperatorTokenSecretArn"]
            self._operator_token = aws(self.endpoint, "secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
        return self._operator_token

    def function_names(self):
        """{binary: deployed function name}, from template.yaml's BuildProperties and the stack."""
        template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
        return {res["Metadata"]["BuildProperties"]["Binary"]: self.resources[logical]
                for logical, res in template["Resources"].items()
                if res.get("Type") == "AWS::Serverless::Function" and logical in self.resources}


def target_stack(args):
    """The stack under test: --api-url/--endpoint, else the outputs file `make up` wrote."""
    outputs = {}
    if Path(args.outputs).exists():
        outputs = json.loads(Path(args.outputs).read_text())
    api_url = args.api_url or outputs.get("LocalApiUrl")
    if not api_url:
        sys.exit(f"no API URL: {args.outputs} is missing; run `make up` first or pass --api-url")
    endpoint = args.endpoint or outputs.get("Endpoint") or "http://127.0.0.1:4566"
    if not healthy(endpoint):
        sys.exit(f"nothing answers at {endpoint}/_localstack/health; run `make up` first or pass --endpoint")
    return Stack(endpoint.rstrip("/"), api_url if api_url.endswith("/") else api_url + "/", outputs, args.stack_name)


DYNAMODB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class CountingProxy:
    """Forwards the functions' AWS calls to the local cloud and counts them by service and operation.

    The service is the SigV4 credential scope's, the operation the X-Amz-Target's (JSON protocols)
    or the Action parameter's (query protocol, SNS). DynamoDB requests get ReturnConsumedCapacity
    TOTAL added when they carry none, so the emulator's own capacity accounting (item sizes, GSI
    writes, 2x for transactions) says how many read and write units each call used; MiniStack does
    not check signatures, and the functions ignore the extra response field. A failed condition
    returns no capacity: it is charged as AWS does, 1 WRU per item (2 in a transaction)."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.counts = collections.Counter()  # ("dynamodb", "PutItem") -> calls, ("dynamodb", "#wru") -> units, ...
        proxy = self

        class Handler(NoDelayHandler):
            def setup(self):
                super().setup()
                self.upstream = None

            def finish(self):
                super().finish()
                if self.upstream:
                    self.upstream.close()

            def forward(self):
                body = self.read_body()
                service, operation = proxy.identify(self.headers, body)
                body = proxy.ask_for_capacity(service, operation, body)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("content-length", "transfer-encoding", "connection", "keep-alive")}
                headers["Content-Length"] = str(len(body))
                for attempt in (1, 2):
                    try:
                        if self.upstream is None:
                            self.upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                            self.upstream.connect()
                            self.upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        self.upstream.request(self.command, self.path, body=body, headers=headers)
                        response = self.upstream.getresponse()
                        answer = response.read()
                        break
                    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                        # MiniStack closed the idle connection before reading the request: resend once.
                        self.upstream.close()
                        self.upstream = None
                        if attempt == 2:
                            raise
                proxy.record(service, operation, body, response.status, answer)
                passed = [(k, v) for k, v in response.getheaders()
                          if k.lower() not in ("content-length", "transfer-encoding", "connection", "keep-alive")]
                self.reply(response.status, answer, passed)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def identify(headers, body):
        scope = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request", headers.get("Authorization", ""))
        service = scope[1] if scope else "unsigned"
        target = headers.get("X-Amz-Target")
        if target:
            return service, target.rsplit(".", 1)[-1]
        action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action")
        return service, action[0] if action else "?"

    @staticmethod
    def ask_for_capacity(service, operation, body):
        if service != "dynamodb" or operation not in DYNAMODB_READS | DYNAMODB_WRITES:
            return body
        request = json.loads(body)
        request.setdefault("ReturnConsumedCapacity", "TOTAL")
        return json.dumps(request).encode()

    def record(self, service, operation, body, status, answer):
        found = collections.Counter({(service, operation): 1})
        if service == "dynamodb":
            kind = "#rru" if operation in DYNAMODB_READS else "#wru"
            if status == 200:
                capacity = json.loads(answer).get("ConsumedCapacity") or []
                for entry in capacity if isinstance(capacity, list) else [capacity]:
                    found[(service, kind)] += entry.get("CapacityUnits", 0)
            elif b"ConditionalCheckFailedException" in answer:
                found[(service, "#conditional_failures")] += 1
                found[(service, "#wru")] += 1
            elif b"TransactionCanceledException" in answer:
                found[(service, "#conditional_failures")] += 1
                found[(service, "#wru")] += 2 * len(json.loads(body).get("TransactItems", []))
        elif service == "events" and operation == "PutEvents":
            found[(service, "#events")] += len(json.loads(body).get("Entries", []))
        with self.lock:
            self.counts.update(found)

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.counts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class OwnCloud:
    """A second MiniStack on a free port, started with AWS_ENDPOINT_URL at a counting proxy (MiniStack
    gives every function its own AWS_ENDPOINT_URL), with the stack deployed by deploy.py."""

    def __init__(self, workdir, stack_name):
        self.workdir, self.stack_name = workdir, stack_name
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proxy = CountingProxy(self.port)
        self.log_path = workdir / "ministack-counted.log"
        self.process = None

    def start(self):
        # TMPDIR: where it unpacks the function code, removed with this script's work folder.
        env = dict(os.environ, BIND_HOST="127.0.0.1", GATEWAY_PORT=str(self.port), PYTHONUNBUFFERED="1", TMPDIR=str(self.workdir),
                   AWS_ENDPOINT_URL=f"http://127.0.0.1:{self.proxy.port}", AWS_ACCESS_KEY_ID="test",
                   AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION)
        with open(self.log_path, "wb") as log:
            # Its own process group: stopping it stops the bootstraps it started too.
            self.process = subprocess.Popen([str(ROOT / ".venv/bin/ministack")], env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not healthy(self.endpoint):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"MiniStack did not start; see {self.log_path}")
            time.sleep(0.2)
        outputs_file = self.workdir / "outputs-counted.json"
        deploy = subprocess.run(
            [sys.executable, str(ROOT / "localstack/deploy.py"), "--endpoint", self.endpoint,
             "--stack-name", self.stack_name, "--outputs", str(outputs_file)],
            env=dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION),
            capture_output=True, text=True)
        if deploy.returncode != 0:
            raise RuntimeError(f"deploying to the counting cloud failed:\n{deploy.stdout[-2000:]}{deploy.stderr[-2000:]}")
        outputs = json.loads(outputs_file.read_text())
        return Stack(self.endpoint, outputs["LocalApiUrl"], outputs, self.stack_name)

    def log_offset(self):
        return self.log_path.stat().st_size

    def esm_batches(self, start, end):
        """The event source mapping batches MiniStack logged between two log offsets:
        [(function name, messages, "SQS messages" | "DynamoDB stream records", source)]."""
        with open(self.log_path, "rb") as log:
            log.seek(start)
            text = log.read(end - start).decode(errors="replace")
        return [(m[1], int(m[2]), m[3], m[4]) for m in ESM_LINE.finditer(text)]

    def stop(self):
        """Stops MiniStack and every function process it started (its process group)."""
        if self.process:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        self.proxy.close()


# ------------------------------------------------------------------------------------------- orders

def plan_orders(count, customers, seed, menu):
    """The orders to place, the same for a given seed: each customer's list of (beverage, qty)."""
    rng = random.Random(seed)
    plan = [[] for _ in range(customers)]
    for i in range(count):
        plan[i % customers].append((rng.choice(menu), rng.randint(1, 3)))
    return plan


def set_stock(api, qty):
    """Sets the cup stock (PUT), creating the stock item first if there is none."""
    status, body = api.request("PUT", f"inventories/{STOCK}", {"qty": qty})
    if status == 404:
        status, body = api.request("POST", "inventories", {"stockName": STOCK, "qty": qty})
    if status not in (200, 201):
        raise RuntimeError(f"setting the cup stock failed: {status} {body}")


class OrderTally:
    """Orders placed and final so far, for the progress line."""

    def __init__(self, total):
        self.total, self.placed, self.completed, self.cancelled, self.failed = total, 0, 0, 0, 0
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def add(self, **delta):
        with self.lock:
            for key, value in delta.items():
                setattr(self, key, getattr(self, key) + value)

    def line(self):
        final = self.completed + self.cancelled
        rate = final / max(1e-9, time.monotonic() - self.started)
        return (f"placed {self.placed}/{self.total}, final {final} (completed {self.completed}, "
                f"cancelled {self.cancelled}, failed {self.failed}), {rate:.1f} orders/s")


class PollPlan:
    """When a customer asks for its notification: first at 70% of the running mean saga latency,
    then every 15% of it (50-500 ms). Polls are API calls through the same emulator, so asking a
    few times per order rather than dozens keeps them from loading what is measured; the latency
    itself comes from the notification's own timestamp, not from when a poll saw it."""

    def __init__(self):
        self.mean_s = 0.5
        self.lock = threading.Lock()

    def observe(self, latency_s):
        with self.lock:
            self.mean_s += 0.1 * (latency_s - self.mean_s)

    def first_wait(self):
        return 0.7 * self.mean_s

    def interval(self):
        return min(0.5, max(0.05, 0.15 * self.mean_s))


def wait_by_polling_api(api, customer_id, token, order_id, plan, deadline):
    """The order's notification, polling GET /notifications?customerId= with the customer's token as
    a kiosk would; and the polls made."""
    time.sleep(plan.first_wait())
    polls = 0
    while True:
        status, notes = api.request("GET", f"notifications?customerId={urllib.parse.quote(customer_id)}", token=token)
        polls += 1
        if status == 200:
            for note in notes:
                if note["orderId"] == order_id:
                    return note, polls
        if time.monotonic() > deadline:
            return None, polls
        time.sleep(plan.interval())


# One customer id places at most this many orders (then the kiosk's next customer steps up), so
# no one passes the stack's MaxOrdersPerCustomerPerMinute (default 20) however fast orders go.
ORDERS_PER_CUSTOMER = 10


def register_kiosks(stack, count):
    """One registered kiosk per concurrent customer, as the operator (each stays well within its
    orders a minute: a kiosk places only a customer id's first order, the token the later ones)."""
    api = ApiClient(stack.api_url, stack.operator_token)
    try:
        tokens = []
        for i in range(count):
            status, kiosk = api.request("POST", "kiosks", {"kioskName": f"bench till {i}"})
            if status != 201:
                raise RuntimeError(f"registering a kiosk answered {status}: {kiosk}")
            tokens.append(kiosk["kioskToken"])
        return tokens
    finally:
        api.close()


def drive_customers(api_url, plan, customer_ids, kiosk_tokens, wait_for_notification, tally, on_final=None,
                    timeout_s=60):
    """Each of the concurrent customers places its orders one at a time, waiting for each one's
    notification (`on_final` hears each saga latency in seconds); its first order under each id
    is placed by its kiosk and gets the customer's token, used for its later orders and polls.
    One record per order."""

    def customer(index):
        api = ApiClient(api_url)
        records = []
        try:
            for n, (beverage, qty) in enumerate(plan[index]):
                if n % ORDERS_PER_CUSTOMER == 0:
                    customer_id, token = f"{customer_ids[index]}-{n // ORDERS_PER_CUSTOMER}", None
                sent_wall, sent = time.time(), time.monotonic()
                status, order = api.request("POST", "orders", {"customerId": customer_id, "beverageName": beverage,
                                                               "beverageQty": qty}, token=token or kiosk_tokens[index])
                posted = time.monotonic()
                record = {"customer": customer_id, "qty": qty, "sent_wall": sent_wall,
                          "post_ms": (posted - sent) * 1000, "outcome": "failed", "polls": 0}
                records.append(record)
                if status != 201:
                    tally.add(failed=1)
                    continue
                tally.add(placed=1)
                token = token or order["customerToken"]
                record.update(order_id=order["orderId"], order_stored=parse_utc(order["orderDate"]))
                note, polls = wait_for_notification(api, customer_id, token, order["orderId"], sent + timeout_s)
                record["polls"] = polls
                if note is None:
                    tally.add(failed=1)
                    continue
                record.update(outcome=note["orderStatus"], seen_ms=(time.monotonic() - sent) * 1000,
                              notified=parse_utc(note["notificationDate"]))
                tally.add(**{note["orderStatus"]: 1})
                if on_final:
                    on_final(record["notified"] - sent_wall)
        finally:
            api.close()
        return records

    with concurrent.futures.ThreadPoolExecutor(len(plan)) as pool:
        return [r for records in pool.map(customer, range(len(plan))) for r in records]


# ------------------------------------------------------------------------------------------- end to end

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


def queued_messages(sqs, stack):
    """Messages in the saga's five queues, visible or in flight (their URLs from the deploy outputs)."""
    urls = [stack.outputs[key] for key in SAGA_QUEUE_OUTPUTS if key in stack.outputs]
    return sum(int(v) for url in urls for v in sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"].values())


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


# ------------------------------------------------------------------------------------------- floor

class FloorResources:
    """Scratch copies of what one order touches, on the endpoint under test: the five tables (same
    keys, indexes and stream as template.yaml), a bus without rules, a topic, and one queue per worker
    standing in for each bus -> queue -> event source mapping hop."""

    def __init__(self, endpoint, workers):
        self.endpoint = endpoint
        self.name = f"cafe-bench-floor-{uuid.uuid4().hex[:8]}"
        self.ddb = aws(endpoint, "dynamodb", workers + 4)
        self.events = aws(endpoint, "events", workers + 4)
        self.sqs = aws(endpoint, "sqs", workers + 4)
        self.sns = aws(endpoint, "sns", workers + 4)
        self.tables = {
            "orders": ("orderId", None, "orderDate", True),
            "inventory": ("stockName", "entry", None, False),
            "beverages": ("beverageId", None, None, False),
            "notifications": ("notificationId", None, "notificationDate", False),
            "kiosk": ("orderId", None, "orderDate", False),
            "customers": ("customerKey", None, None, False),
        }
        for table, (hash_key, range_key, index_date, stream) in self.tables.items():
            keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
            attributes = {hash_key}
            if range_key:
                keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
                attributes.add(range_key)
            spec = {"TableName": f"{self.name}-{table}", "BillingMode": "PAY_PER_REQUEST", "KeySchema": keys}
            if index_date:
                spec["GlobalSecondaryIndexes"] = [{
                    "IndexName": "byCustomer", "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [{"AttributeName": "customerId", "KeyType": "HASH"},
                                  {"AttributeName": index_date, "KeyType": "RANGE"}]}]
                attributes |= {"customerId", index_date}
            if stream:
                spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            spec["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)]
            self.ddb.create_table(**spec)
        # The kiosk that places first orders, as the saga's are registered.
        self.ddb.put_item(TableName=self.table("customers"), Item={"customerKey": {"S": "kiosk#floor"},
                                                                   "secretHash": {"S": "floor"}})
        self.events.create_event_bus(Name=self.name)
        self.topic = self.sns.create_topic(Name=self.name)["TopicArn"]
        self.queues = [self.sqs.create_queue(QueueName=f"{self.name}-{i}")["QueueUrl"] for i in range(workers)]

    def table(self, name):
        return f"{self.name}-{name}"

    def delete(self):
        for table in self.tables:
            self.ddb.delete_table(TableName=self.table(table))
        self.events.delete_event_bus(Name=self.name)
        self.sns.delete_topic(TopicArn=self.topic)
        for url in self.queues:
            self.sqs.delete_queue(QueueUrl=url)


class FloorWorker:
    """One customer's worth of floor orders: the calls the functions make for an order, in the saga's
    order, each timed (functions/*/src/store.rs and handlers.rs, shared/src/bus.rs and dynamo.rs)."""

    def __init__(self, res, queue_url):
        self.res, self.queue_url = res, queue_url
        self.call_ms = collections.defaultdict(list)
        self.calls = collections.Counter()

    def call(self, name, fn, **kwargs):
        started = time.monotonic()
        try:
            return fn(**kwargs)
        finally:
            self.call_ms[name].append((time.monotonic() - started) * 1000)
            self.calls[name] += 1

    def publish(self, detail_type, detail):
        self.call("EventBridge.PutEvents", self.res.events.put_events, Entries=[{
            "EventBusName": self.res.name, "Source": "cafe.bench", "DetailType": detail_type,
            "Detail": json.dumps(detail)}])
        return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": "cafe.bench",
                "time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "detail": detail}

    def hop(self, envelope):
        """What a bus rule and an event source mapping do for one event: send, receive, delete."""
        self.call("SQS.SendMessage", self.res.sqs.send_message, QueueUrl=self.queue_url, MessageBody=json.dumps(envelope))
        while True:
            got = self.call("SQS.ReceiveMessage", self.res.sqs.receive_message, QueueUrl=self.queue_url,
                            MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages")
            if got:
                break
        self.call("SQS.DeleteMessage", self.res.sqs.delete_message, QueueUrl=self.queue_url,
                  ReceiptHandle=got[0]["ReceiptHandle"])

    def put_new(self, table, item, key):
        try:
            self.call("DynamoDB.PutItem", self.res.ddb.put_item, TableName=self.res.table(table), Item=item,
                      ConditionExpression="attribute_not_exists(#k)", ExpressionAttributeNames={"#k": key})
        except self.res.ddb.exceptions.ConditionalCheckFailedException:
            pass

    def get(self, table, key):
        return self.call("DynamoDB.GetItem", self.res.ddb.get_item, TableName=self.res.table(table), Key=key,
                         ConsistentRead=True).get("Item")

    def order(self, customer_id, beverage, qty, first_of_customer):
        """Returns (outcome, ms from storing the order to storing its notification)."""
        s = lambda v: {"S": str(v)}  # noqa: E731
        now = lambda: datetime.datetime.now(datetime.timezone.utc).isoformat()  # noqa: E731
        order_id = str(uuid.uuid4())
        summary = {"orderId": order_id, "customerId": customer_id, "beverageName": beverage, "beverageQty": qty}
        kiosk_events = []
        started = time.monotonic()
        # order-api: the pending order with the customer's count this minute (and, for their first
        # order, the kiosk's check, its count this minute and the customer's registration) in one
        # transaction; order-outbox (stream): OrderPlaced.
        minute = int(time.time()) // 60
        writes = [
            {"Put": {"TableName": self.res.table("orders"), "ConditionExpression": "attribute_not_exists(orderId)",
                     "Item": {"orderId": s(order_id), "customerId": s(customer_id), "beverageName": s(beverage),
                              "beverageQty": {"N": str(qty)}, "stockName": s(STOCK), "orderStatus": s("pending"),
                              "orderDate": s(now())}}},
            {"Update": {"TableName": self.res.table("customers"), "Key": {"customerKey": s(f"rate#{customer_id}#{minute}")},
                        "UpdateExpression": "ADD placed :one SET expiresAt = :expires",
                        "ConditionExpression": "attribute_not_exists(placed) OR placed < :max",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":max": {"N": "20"},
                                                      ":expires": {"N": str((minute + 2) * 60)}}}},
        ]
        if first_of_customer:
            writes[:0] = [
                {"ConditionCheck": {"TableName": self.res.table("customers"), "Key": {"customerKey": s("kiosk#floor")},
                                    "ConditionExpression": "secretHash = :hash",
                                    "ExpressionAttributeValues": {":hash": s("floor")}}},
                # One counter per customer here (the saga's: one per kiosk, one kiosk per customer).
                {"Update": {"TableName": self.res.table("customers"),
                            "Key": {"customerKey": s(f"kioskrate#{customer_id}#{minute}")},
                            "UpdateExpression": "ADD placed :one SET expiresAt = :expires",
                            "ConditionExpression": "attribute_not_exists(placed) OR placed < :max",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":max": {"N": "30"},
                                                          ":expires": {"N": str((minute + 2) * 60)}}}},
            ]
            writes.append({"Put": {"TableName": self.res.table("customers"),
                                   "Item": {"customerKey": s(f"customer#{customer_id}"), "firstOrderId": s(order_id)},
                                   "ConditionExpression": "attribute_not_exists(customerKey)"}})
        self.call("DynamoDB.TransactWriteItems", self.res.ddb.transact_write_items, TransactItems=writes)
        placed = self.publish("OrderPlaced", summary | {"stockName": STOCK, "orderDate": now()})
        kiosk_events.append(placed)
        self.hop(placed)
        # inventory-events: the decision on record?, then decrement + record in one transaction.
        reservation = {"stockName": s(STOCK), "entry": s(f"RESERVATION#{order_id}"), "orderId": s(order_id),
                       "decidedAt": s(now())}
        self.get("inventory", {"stockName": s(STOCK), "entry": s(f"RESERVATION#{order_id}")})
        try:
            self.call("DynamoDB.TransactWriteItems", self.res.ddb.transact_write_items, TransactItems=[
                {"Put": {"TableName": self.res.table("inventory"),
                         "Item": reservation | {"reservation": s(json.dumps({"outcome": "reserved", "cups": qty}))},
                         "ConditionExpression": "attribute_not_exists(entry)"}},
                {"Update": {"TableName": self.res.table("inventory"), "Key": {"stockName": s(STOCK), "entry": s("STOCK")},
                            "UpdateExpression": "SET qty = qty - :cups, updatedAt = :now",
                            "ConditionExpression": "attribute_exists(qty) AND qty >= :cups",
                            "ExpressionAttributeValues": {":cups": {"N": str(qty)}, ":now": s(now())}}}])
            outcome = "completed"
            decided = self.publish("CupStockDecreased", summary | {"stockName": STOCK, "cupsReserved": qty})
        except self.res.ddb.exceptions.TransactionCanceledException:
            outcome = "cancelled"
            self.get("inventory", {"stockName": s(STOCK), "entry": s("STOCK")})
            self.put_new("inventory", reservation | {"reservation": s(json.dumps({"outcome": "outOfStock"}))}, "entry")
            decided = self.publish("CupOutOfStock", summary | {"stockName": STOCK, "cupsRequested": qty,
                                                               "reason": "out of cups"})
        kiosk_events.append(decided)
        self.hop(decided)
        if outcome == "completed":
            # beverage-events: made already?, the record, BeverageMade.
            beverage_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"beverage\n{order_id}"))
            self.get("beverages", {"beverageId": s(beverage_id)})
            self.put_new("beverages", {"beverageId": s(beverage_id), "orderId": s(order_id), "customerId": s(customer_id),
                                       "beverageName": s(beverage), "beverageQty": {"N": str(qty)},
                                       "madeAt": s(now())}, "beverageId")
            made = self.publish("BeverageMade", summary | {"beverageId": beverage_id, "madeAt": now()})
            kiosk_events.append(made)
            self.hop(made)
        # order-events: pending -> final, conditionally; order-outbox (stream): the outcome.
        self.call("DynamoDB.UpdateItem", self.res.ddb.update_item, TableName=self.res.table("orders"),
                  Key={"orderId": s(order_id)}, UpdateExpression="SET #status = :to",
                  ConditionExpression="orderStatus = :pending", ExpressionAttributeNames={"#status": "orderStatus"},
                  ExpressionAttributeValues={":pending": s("pending"), ":to": s(outcome)})
        final = self.publish("OrderCompleted" if outcome == "completed" else "OrderCancelled", summary)
        kiosk_events.append(final)
        self.hop(final)
        # notify-events: on record?, the notification (what GET /notifications then shows) ...
        notification_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"notification\n{order_id}"))
        self.get("notifications", {"notificationId": s(notification_id)})
        self.put_new("notifications", {"notificationId": s(notification_id), "customerId": s(customer_id),
                                       "orderId": s(order_id), "orderStatus": s(outcome), "message": s("Your order"),
                                       "notificationDate": s(now()), "sms": {"BOOL": False}}, "notificationId")
        latency_ms = (time.monotonic() - started) * 1000
        # ... then, after the moment measured: SNS, marked sent, CustomerNotified.
        message_id = self.call("SNS.Publish", self.res.sns.publish, TopicArn=self.res.topic, Subject="Your order",
                               Message="Your order", MessageAttributes={
                                   k: {"DataType": "String", "StringValue": v}
                                   for k, v in (("customerId", customer_id), ("orderStatus", outcome), ("orderId", order_id))})
        self.call("DynamoDB.UpdateItem", self.res.ddb.update_item, TableName=self.res.table("notifications"),
                  Key={"notificationId": s(notification_id)}, UpdateExpression="SET snsMessageId = :id",
                  ExpressionAttributeValues={":id": s(message_id["MessageId"])})
        kiosk_events.append(self.publish("CustomerNotified", summary | {"notificationId": notification_id}))
        # kiosk-events, beside the saga: each event delivered to its queue and folded into the view.
        for envelope in kiosk_events:
            self.hop(envelope)
            self.call("DynamoDB.UpdateItem", self.res.ddb.update_item, TableName=self.res.table("kiosk"),
                      Key={"orderId": s(order_id)},
                      UpdateExpression="SET customerId = if_not_exists(customerId, :c), beverageName = "
                                       "if_not_exists(beverageName, :b), beverageQty = if_not_exists(beverageQty, :q), "
                                       "#step = if_not_exists(#step, :step), orderDate = if_not_exists(orderDate, :d)",
                      ExpressionAttributeNames={"#step": f"step#{envelope['detail-type']}"},
                      ExpressionAttributeValues={":c": s(customer_id), ":b": s(beverage), ":q": {"N": str(qty)},
                                                 ":step": s(json.dumps(envelope["detail"])), ":d": s(now())})
        return outcome, latency_ms


def floor_round(res, plan, stock_fraction, progress, label):
    """The floor's orders of `plan` (one worker per customer); its figures and its latencies."""
    cups = sum(q for orders in plan for _, q in orders)
    res.ddb.put_item(TableName=res.table("inventory"), Item={
        "stockName": {"S": STOCK}, "entry": {"S": "STOCK"}, "qty": {"N": str(round(stock_fraction * cups))},
        "updatedAt": {"S": "2026-01-01T00:00:00Z"}})
    count = sum(len(orders) for orders in plan)
    tally = OrderTally(count)
    progress.phase(f"floor, {label}: {count} orders' AWS calls made directly with boto3, {len(plan)} at once", tally.line)
    workers = [FloorWorker(res, url) for url in res.queues[:len(plan)]]
    run = uuid.uuid4().hex[:8]  # customers of this round's own

    def customer(index):
        results = []
        for n, (beverage, qty) in enumerate(plan[index]):
            tally.add(placed=1)
            # New customer ids as often as the saga's customers take them (ORDERS_PER_CUSTOMER).
            customer_id = f"floor-{run}-{index}-{n // ORDERS_PER_CUSTOMER}"
            outcome, ms = workers[index].order(customer_id, beverage, qty, n % ORDERS_PER_CUSTOMER == 0)
            tally.add(**{outcome: 1})
            results.append((outcome, ms, workers[index].calls.copy()))
            workers[index].calls.clear()
        return results

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(plan)) as pool:
        results = [r for rs in pool.map(customer, range(len(plan))) for r in rs]
    wall = time.monotonic() - started
    latency = {o: [ms for outcome, ms, _ in results if o in ("all", outcome)] for o in ("all", "completed", "cancelled")}
    call_ms = collections.defaultdict(list)
    for worker in workers:
        for name, values in worker.call_ms.items():
            call_ms[name] += values
    summary = {
        "orders": len(results), "customers": len(plan),
        "completed": len(latency["completed"]), "cancelled": len(latency["cancelled"]),
        "wall_s": round(wall, 2), "orders_per_s": round(len(results) / wall, 2),
        "latency_ms": {o: stats(v) for o, v in latency.items()},
        "call_ms": {name: stats(values) for name, values in sorted(call_ms.items())},
    }
    return summary, latency, results


def run_floor(endpoint, args, menu, progress, cpu):
    """The floor twice: one order at a time (each call's own cost, nothing queued beside it), then
    with the customers' concurrency (what the cloud sustains, and its CPU per order)."""
    res = FloorResources(endpoint, args.customers)
    try:
        alone, alone_latency, _ = floor_round(res, plan_orders(args.floor_alone_orders, 1, args.seed, menu),
                                              args.stock_fraction, progress, "one order at a time")
        start = cpu.reading()
        loaded, loaded_latency, results = floor_round(res, plan_orders(args.floor_orders, args.customers, args.seed, menu),
                                                      args.stock_fraction, progress, f"{args.customers} customers")
        usage = cpu.usage(start, loaded["orders"])
    finally:
        res.delete()
    calls_per_order = {}
    for outcome in ("completed", "cancelled"):
        chosen = [calls for o, _, calls in results if o == outcome]
        total = sum(chosen, collections.Counter())
        calls_per_order[outcome] = {k: round(v / len(chosen), 2) for k, v in sorted(total.items())} if chosen else {}
    return ({"alone": alone, "concurrent": loaded, "calls_per_order": calls_per_order, "cpu": usage},
            {"alone": alone_latency["all"], "concurrent": loaded_latency["all"]})


# ------------------------------------------------------------------------------------------- AWS calls per order

def wait_until_quiet(cloud, stack, quiet_s=1.0, timeout_s=120):
    """Until no saga queue holds a message and the functions made no AWS call for `quiet_s`."""
    sqs = aws(stack.endpoint, "sqs")
    deadline = time.monotonic() + timeout_s
    last, still_since = None, time.monotonic()
    while time.monotonic() < deadline:
        counts = cloud.proxy.snapshot()
        if counts != last:
            last, still_since = counts, time.monotonic()
        if queued_messages(sqs, stack) == 0 and time.monotonic() - still_since >= quiet_s:
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

    def by_table(_api, customer_id, _token, order_id, deadline):
        while time.monotonic() < deadline:
            items = ddb.query(TableName=table, IndexName="byCustomer", KeyConditionExpression="customerId = :c",
                              ExpressionAttributeValues={":c": {"S": customer_id}})["Items"]
            for item in items:
                if item["orderId"]["S"] == order_id:
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
    sends = sum(b[1] for b in sqs_batches)
    lambda_invocations = {b: round(n / orders, 2) for b, n in invocations.items() if n}
    # Billed per invocation: the function's warm mean, rounded up to 1 ms, at 128 MB.
    gb_seconds = sum(n / orders * math.ceil(warm_mean_ms[b]) / 1000 * PRICES["lambda_memory_mb"] / 1024
                     for b, n in invocations.items())
    return {
        "dynamodb": {"calls": ops("dynamodb"), "rru": round(counts[("dynamodb", "#rru")] / orders, 2),
                     "wru": round(counts[("dynamodb", "#wru")] / orders, 2),
                     "conditional_failures": round(counts[("dynamodb", "#conditional_failures")] / orders, 2)},
        "eventbridge": {"calls": ops("events"), "events": round(counts[("events", "#events")] / orders, 2)},
        "sns": {"calls": ops("sns"), "publishes": round(counts[("sns", "Publish")] / orders, 2)},
        # The functions make no SQS call; the platform does: the bus's rule sends each message, and
        # the event source mapping receives a batch and deletes it (AWS bills these to the queue's
        # owner). Empty long polls while idle are not per order and are left out.
        "sqs": {"function_calls": ops("sqs"), "sends": round(sends / orders, 2),
                "receives": round(len(sqs_batches) / orders, 2), "deletes": round(len(sqs_batches) / orders, 2),
                "requests": round((sends + 2 * len(sqs_batches) + sum(n for (s, op), n in counts.items()
                                                                     if s == "sqs")) / orders, 2)},
        "lambda": {"invocations": lambda_invocations, "total": round(sum(lambda_invocations.values()), 2),
                   "gb_seconds": round(gb_seconds, 6)},
        "apigateway": {"requests": 1.0},
    }


def mix(completed, cancelled, fraction):
    """The per-order figures of a mix of the two outcomes (`fraction` of them completed)."""
    if isinstance(completed, dict):
        return {k: mix(completed.get(k, 0), cancelled.get(k, 0), fraction) for k in sorted(completed.keys() | cancelled.keys())}
    return round(fraction * completed + (1 - fraction) * cancelled, 6)


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


# ------------------------------------------------------------------------------------------- functions

class RuntimeApi:
    """A minimal Lambda Runtime API (2018-06-01) for one bootstrap at a time. It notes when the process
    first asks for work (/next) and times each event from handing it out to the answer."""

    def __init__(self):
        self.session = None
        api = self

        class Handler(NoDelayHandler):
            def do_GET(self):
                session = api.session
                if "/runtime/invocation/next" not in self.path or session is None:
                    return self.reply(404)
                if session.first_poll_at is None:
                    session.first_poll_at = time.monotonic()
                    session.first_poll.set()
                while (item := session.next_event()) is None:
                    if session.closed:
                        return self.reply(500, b'{"errorMessage":"stopped"}')
                request_id, payload = item
                headers = [("Lambda-Runtime-Aws-Request-Id", request_id),
                           ("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 20) * 1000))),
                           ("Lambda-Runtime-Invoked-Function-Arn",
                            f"arn:aws:lambda:{REGION}:000000000000:function:{session.function_name}"),
                           ("Lambda-Runtime-Trace-Id",
                            f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"),
                           ("Content-Type", "application/json")]
                session.sent_at = time.monotonic()
                self.reply(200, payload, headers)

            def do_POST(self):
                body = self.read_body()
                session = api.session
                match = re.search(r"/runtime/invocation/([^/]+)/(response|error)$", self.path)
                if session and match:
                    session.answer(match[1], match[2], body)
                elif session and self.path.endswith("/runtime/init/error"):
                    session.init_error = body.decode(errors="replace")
                    session.first_poll.set()
                self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def open(self, function_name):
        self.session = RuntimeSession(function_name)
        return self.session

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class RuntimeSession:
    """One bootstrap process's view of the Runtime API."""

    def __init__(self, function_name):
        self.function_name = function_name
        self.first_poll, self.first_poll_at, self.init_error = threading.Event(), None, None
        self.events, self.closed = queue.Queue(), False
        self.sent_at, self.pending, self.result, self.answered = None, None, None, threading.Event()

    def next_event(self):
        try:
            return self.events.get(timeout=0.1)
        except queue.Empty:
            return None

    def answer(self, request_id, kind, body):
        if request_id == self.pending:
            self.result = (time.monotonic() - self.sent_at, kind, body)
            self.answered.set()

    def invoke(self, payload, timeout_s=30):
        """(handler ms, "response" | "error", body) for one event."""
        self.pending, self.answered = str(uuid.uuid4()), threading.Event()
        self.events.put((self.pending, json.dumps(payload).encode()))
        if not self.answered.wait(timeout_s):
            raise RuntimeError(f"{self.function_name}: no answer in {timeout_s} s")
        seconds, kind, body = self.result
        return seconds * 1000, kind, body


class Bootstrap:
    """A function's bootstrap, unzipped from a copy of its zip, started as Lambda starts it."""

    def __init__(self, binary, workdir, env):
        archive = ROOT / "target/lambda" / binary / "bootstrap.zip"
        self.binary, self.dir, self.env = binary, workdir / binary, env
        self.dir.mkdir(parents=True)
        copy = self.dir / "bootstrap.zip"
        shutil.copyfile(archive, copy)  # a rebuild under us does not change what is measured
        with zipfile.ZipFile(copy) as z:
            z.extract("bootstrap", self.dir)
        self.path = self.dir / "bootstrap"
        self.path.chmod(0o755)
        self.zip_bytes, self.bootstrap_bytes = copy.stat().st_size, self.path.stat().st_size
        self.log = self.dir / "output.log"

    def start(self):
        """Spawns it; returns (process, monotonic time just before the spawn)."""
        with open(self.log, "ab") as log:
            started = time.monotonic()
            process = subprocess.Popen([str(self.path)], cwd=self.dir, env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT)
        return process, started

    def stop(self, process):
        """Ends it; returns its peak resident memory in KiB: VmHWM, read just before the kill (the
        ru_maxrss wait4 reports would count the forking Python's pages from before the exec)."""
        try:
            peak = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{process.pid}/status").read_text())
        except OSError:
            peak = None  # it had exited already
        process.kill()
        process.wait()
        return int(peak[1]) if peak else None

    def output_lines(self):
        return sum(1 for _ in open(self.log, "rb"))

    def tail(self):
        return self.log.read_text(errors="replace")[-1500:]


def lambda_env(binary, name, config_env, runtime_api, endpoint, workdir):
    """The environment Lambda gives a provided.al2023 function, plus the function's own variables."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": runtime_api, "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(PRICES["lambda_memory_mb"]), "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}", "AWS_LAMBDA_LOG_STREAM_NAME": uuid.uuid4().hex,
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": endpoint,
        "LAMBDA_TASK_ROOT": str(workdir / binary), "_HANDLER": "bootstrap",
    } | config_env


def sample(name):
    return json.loads((EVENTS / name).read_text())


def sqs_event(sample_name, **detail):
    """A sample SQS batch of events/ with one message whose bus event is new (fresh ids, `detail` merged)."""
    event = sample(sample_name)
    record = event["Records"][0]
    body = json.loads(record["body"])
    body["id"] = str(uuid.uuid4())
    body["detail"] |= detail
    record["messageId"] = str(uuid.uuid4())
    record["body"] = json.dumps(body)
    return event


def api_event(method, resource, path, body=None, query=None, path_parameters=None, token=None):
    """events/api-post-order.json reshaped into another REST API proxy request (with `token` as its
    bearer token)."""
    event = sample("api-post-order.json")
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
    event.update(resource=resource, path=path, httpMethod=method, body=json.dumps(body) if body is not None else None,
                 headers=headers, multiValueHeaders={k: [v] for k, v in headers.items()},
                 queryStringParameters=query, multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
                 pathParameters=path_parameters)
    event["requestContext"].update(resourcePath=resource, httpMethod=method, path=f"/prod{path}",
                                   requestId=str(uuid.uuid4()), requestTimeEpoch=int(time.time() * 1000))
    return event


class EventFeeds:
    """The events each function is fed, with fresh order ids so that every one does the full work
    (no idempotent repeats): what the saga hands each function for one order."""

    KIOSK_SAMPLES = ["order-placed.json", "cup-stock-decreased.json", "beverage-made.json", "order-completed.json",
                     "customer-notified.json", "cup-out-of-stock.json", "order-cancelled.json"]

    def __init__(self, stack, customer_id, order_id):
        self.stack, self.customer_id, self.order_id = stack, customer_id, order_id
        self.placed = []  # orders order-api made: order-outbox announces them, order-events completes them
        self.kiosk_order_id = None
        self.ddb = aws(stack.endpoint, "dynamodb")

    def describe(self, binary):
        return {
            "order-api": "POST /orders (REST proxy event from api-post-order.json, no Idempotency-Key, operator "
                         "token): a new customer's first order each (registers them)",
            "order-outbox": "DynamoDB stream batch of 1 INSERT of an order order-api stored (read back as stored)",
            "order-events": "MakingRequested (making-requested.json) for a pending order order-api stored: moves it to making",
            "inventory-api": "GET /inventories/cup (operator token)",
            "inventory-events": "OrderPlaced (order-placed.json), new order id each: reserves 1 cup",
            "beverage-api": "GET /beverages?orderId= of an existing order (operator token)",
            "beverage-events": "OrderMaking (order-making.json), new order id each: makes it",
            "notify-api": "GET /notifications?customerId= of a customer with notifications (operator token)",
            "notify-events": "OrderCompleted (order-completed.json), new order id each: notification + SNS",
            "kiosk-api": "GET /kiosk/orders/{orderId} of an existing order (operator token)",
            "kiosk-events": "the 7 sample saga events in turn (events/*.json), a new order id every 7",
        }[binary] + ("; a batch of 1 message" if binary.endswith("-events") else "")

    def event(self, binary, i):
        fresh = str(uuid.uuid4())
        token = self.stack.operator_token
        if binary == "order-api":
            # As the operator: a kiosk's orders a minute would cap the 100 runs.
            return api_event("POST", "/orders", "/orders", {"customerId": f"bench-fn-{fresh}", "beverageName": "latte",
                                                            "beverageQty": 1}, token=token)
        if binary in ("order-outbox", "order-events") and not self.placed:
            raise RuntimeError("order-api made no order to feed order-outbox and order-events")
        if binary == "order-outbox":
            item = self.ddb.get_item(TableName=self.stack.resources["OrdersTable"],
                                     Key={"orderId": {"S": self.placed[i % len(self.placed)]}}, ConsistentRead=True)["Item"]
            return {"Records": [{
                "eventID": fresh, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                "awsRegion": REGION, "dynamodb": {"ApproximateCreationDateTime": int(time.time()),
                                                  "Keys": {"orderId": item["orderId"]}, "NewImage": item,
                                                  "SequenceNumber": str(i + 1), "SizeBytes": len(json.dumps(item)),
                                                  "StreamViewType": "NEW_AND_OLD_IMAGES"},
                "eventSourceARN": f"arn:aws:dynamodb:{REGION}:000000000000:table/{self.stack.resources['OrdersTable']}/stream/bench"}]}
        if binary == "order-events":
            return sqs_event("making-requested.json", orderId=self.placed[i % len(self.placed)])
        if binary == "inventory-api":
            return api_event("GET", "/inventories/{stockName}", f"/inventories/{STOCK}", path_parameters={"stockName": STOCK},
                             token=token)
        if binary == "inventory-events":
            return sqs_event("order-placed.json", orderId=fresh)
        if binary == "beverage-api":
            return api_event("GET", "/beverages", "/beverages", query={"orderId": self.order_id}, token=token)
        if binary == "beverage-events":
            return sqs_event("order-making.json", orderId=fresh)
        if binary == "notify-api":
            return api_event("GET", "/notifications", "/notifications", query={"customerId": self.customer_id},
                             token=token)
        if binary == "notify-events":
            return sqs_event("order-completed.json", orderId=fresh)
        if binary == "kiosk-api":
            return api_event("GET", "/kiosk/orders/{orderId}", f"/kiosk/orders/{self.order_id}",
                             path_parameters={"orderId": self.order_id}, token=token)
        if i % len(self.KIOSK_SAMPLES) == 0:
            self.kiosk_order_id = fresh
        return sqs_event(self.KIOSK_SAMPLES[i % len(self.KIOSK_SAMPLES)], orderId=self.kiosk_order_id)

    def check(self, binary, kind, body):
        """Whether the function did what it was fed for: no error, no failed batch item, a 2xx answer
        (a refusal would time the wrong work); remembers the orders order-api made."""
        if kind != "response":
            return False
        answer = json.loads(body) if body else {}
        if binary.endswith("-api"):
            if binary == "order-api" and answer.get("statusCode") == 201:
                self.placed.append(json.loads(answer["body"])["orderId"])
            return 200 <= answer.get("statusCode", 500) < 300
        return not (answer or {}).get("batchItemFailures")


def measure_functions(stack, args, workdir, feeds, progress):
    """Init, warm durations, memory and sizes of every function, each run by this script."""
    names = stack.function_names()
    lam = aws(stack.endpoint, "lambda")
    # The saga must not run beside the measurements: the counting cloud's event source mappings stop,
    # so what the fed functions publish stays queued.
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        for mapping in page["EventSourceMappings"]:
            lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    runtime = RuntimeApi()
    results = []
    try:
        for binary in BINARIES:
            name = names[binary]
            config_env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
            bootstrap = Bootstrap(binary, workdir, lambda_env(binary, name, config_env, runtime.address, stack.endpoint, workdir))
            done = {"init": 0, "warm": 0}
            progress.phase(f"functions: {binary}: {args.init_starts} cold starts, {args.warm_events} warm events",
                           lambda b=binary, d=done: f"{b}: {d['init']} starts, {d['warm']} events")
            init_ms, init_rss = [], []
            for _ in range(args.init_starts):
                session = runtime.open(name)
                process, started = bootstrap.start()
                polled = session.first_poll.wait(10)
                init_rss.append(bootstrap.stop(process))  # before its /next is released: it may exit then
                session.closed = True
                if not polled or session.init_error:
                    raise RuntimeError(f"{binary} did not reach /next: {session.init_error or ''}\n{bootstrap.tail()}")
                init_ms.append((session.first_poll_at - started) * 1000)
                done["init"] += 1
            session = runtime.open(name)
            process, _ = bootstrap.start()
            try:
                if not session.first_poll.wait(10):
                    raise RuntimeError(f"{binary} did not reach /next\n{bootstrap.tail()}")
                lines_before = bootstrap.output_lines()
                warm, errors, first_ms = [], 0, None
                for i in range(args.warm_events + 1):
                    ms, kind, body = session.invoke(feeds.event(binary, i))
                    errors += not feeds.check(binary, kind, body)
                    if i == 0:
                        first_ms = ms  # the first event opens the SDK's connections
                    else:
                        warm.append(ms)
                    done["warm"] = i
            finally:
                peak_rss = bootstrap.stop(process)
                session.closed = True
            lines = bootstrap.output_lines() - lines_before
            init = stats(init_ms)
            results.append({
                "binary": binary, "function_name": name,
                "zip_bytes": bootstrap.zip_bytes, "bootstrap_bytes": bootstrap.bootstrap_bytes,
                "init_ms": init, "init_under_20ms": init["p50"] < 20,
                "init_rss_kib": nearest_rank(sorted(init_rss), 50),
                "first_invocation_ms": round(first_ms, 2), "warm_ms": stats(warm), "warm_errors": errors,
                "peak_rss_kib": peak_rss,
                "log_lines_per_invocation": round(lines / (args.warm_events + 1), 2),
                "event": feeds.describe(binary),
            })
    finally:
        runtime.close()
    return results


# ------------------------------------------------------------------------------------------- report

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
    fa, fc = f["alone"], f["concurrent"]
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
        f"to the notification.** The same AWS calls made directly with boto3 (the floor) take "
        f"{fmt(fa['latency_ms']['all']['p50'], 0)} ms per order one at a time and run at {fmt(fc['orders_per_s'], 2)} orders/s "
        f"with {c['customers']} customers: the saga's median latency is {fmt(r['ratio']['saga_p50_over_floor_alone_p50'])}x "
        f"the bare calls', its throughput {fmt(r['ratio']['saga_orders_per_s_over_floor'], 2)}x the floor's (whose boto3 client "
        f"is itself a limit, see below), and it costs the "
        f"local cloud {fmt(e['cpu']['cloud_cpu_ms_per_order'])} CPU-ms per order against the floor's "
        f"{fmt(f['cpu']['cloud_cpu_ms_per_order'])} ({fmt(r['ratio']['saga_cloud_cpu_per_order_over_floor'])}x). "
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
        f"The calls the functions make for an order, in the saga's order, made with boto3 against {c['endpoint']} on "
        f"scratch tables, bus, topic and queues (deleted after); each bus → queue → function hop is an SQS send, receive "
        f"and delete. Floor latency runs from storing the order to storing its notification; the SNS publish, the "
        f"mark-sent update, CustomerNotified and the kiosk's deliveries and writes come after or beside it and count in "
        f"throughput only. Not in the floor: API Gateway, Lambda, the DynamoDB stream delivery (no client call does it). "
        f"Run twice: {fa['orders']} orders one at a time (each call's own cost), then {fc['orders']} orders from "
        f"{c['customers']} customers.",
        "",
        md_table(["", "orders", "orders/s", "p50", "p90", "p99", "max"],
                 [["saga, end to end", e["orders"], fmt(e["orders_per_s"], 2)]
                  + [fmt(e["latency_ms"]["all"][k]) for k in ("p50", "p90", "p99", "max")],
                  ["floor, one order at a time", fa["orders"], fmt(fa["orders_per_s"], 2)]
                  + [fmt(fa["latency_ms"]["all"][k]) for k in ("p50", "p90", "p99", "max")],
                  [f"floor, {c['customers']} customers", fc["orders"], fmt(fc["orders_per_s"], 2)]
                  + [fmt(fc["latency_ms"]["all"][k]) for k in ("p50", "p90", "p99", "max")],
                  ["&nbsp;&nbsp;completed", fc["completed"], ""] + [fmt(fc["latency_ms"]["completed"][k]) for k in ("p50", "p90", "p99", "max")],
                  ["&nbsp;&nbsp;cancelled", fc["cancelled"], ""] + [fmt(fc["latency_ms"]["cancelled"][k]) for k in ("p50", "p90", "p99", "max")]]),
        "",
        "CPU per order while the orders ran (local cloud = the MiniStack process and the function processes it "
        "started; script = this benchmark's own client threads, which share the machine):",
        "",
        md_table(["", "wall s", "local cloud CPU s", "cloud cores busy", "cloud CPU-ms per order", "script CPU-ms per order"],
                 [[label, fmt(u["wall_s"], 1), fmt(u["cloud_cpu_s"], 1), fmt(u["cloud_cores_busy"], 2),
                   fmt(u["cloud_cpu_ms_per_order"]), fmt(u["client_cpu_ms_per_order"])]
                  for label, u in (("saga, end to end", e["cpu"]), (f"floor, {c['customers']} customers", f["cpu"]))]),
        "",
        f"The script spent {fmt(f['cpu']['client_cpu_ms_per_order'])} CPU-ms per floor order in boto3 (one Python "
        f"process, so at most one core, beside the cloud on {c['cpus']} CPUs): with many customers the floor's "
        f"throughput and latency are bound by its client as much as by the cloud. The cloud's CPU per order does "
        f"not depend on the client: that is the like-for-like comparison with the saga.",
        "",
        md_table(["saga ÷ floor", "ratio"],
                 [["median latency ÷ the floor's one order at a time", fmt(r["ratio"]["saga_p50_over_floor_alone_p50"], 2)],
                  [f"median latency ÷ the floor's with {c['customers']} customers", fmt(r["ratio"]["saga_p50_over_floor_p50"], 2)],
                  [f"p99 latency ÷ the floor's with {c['customers']} customers", fmt(r["ratio"]["saga_p99_over_floor_p99"], 2)],
                  ["orders/s ÷ the floor's", fmt(r["ratio"]["saga_orders_per_s_over_floor"], 2)],
                  ["local cloud CPU per order ÷ the floor's", fmt(r["ratio"]["saga_cloud_cpu_per_order_over_floor"], 2)]]),
        "",
        "Floor calls per order, and each call's latency one order at a time and with the customers:",
        "",
        md_table(["call", "per completed order", "per cancelled order", "alone p50", "alone p99",
                  f"{c['customers']} customers p50", f"{c['customers']} customers p99"],
                 [[name, f["calls_per_order"]["completed"].get(name, 0), f["calls_per_order"]["cancelled"].get(name, 0),
                   fmt(fa["call_ms"].get(name, stats([]))["p50"], 2), fmt(fa["call_ms"].get(name, stats([]))["p99"], 2),
                   fmt(s["p50"], 2), fmt(s["p99"], 2)] for name, s in fc["call_ms"].items()]),
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
        f"Lambda duration: invocations × the function's measured warm mean (fed one message or request at a time), "
        f"rounded up to 1 ms, at 128 MB. "
        f"DynamoDB: the units the emulator's capacity accounting reported per call (1 KB writes, 4 KB reads, "
        f"transactions 2x, GSI writes included), failed conditions at 1 WRU per item (2 in a transaction).",
        f"Not included: {', '.join(cost['excluded'])}.",
        "",
        md_table(["item (USD per 1M orders)", "completed", "cancelled", "mix"],
                 [[k.replace("_", " "), *(fmt(cost["per_million_orders_usd"][o][k], 2) for o in ("completed", "cancelled", "mix"))]
                  for k in cost["per_million_orders_usd"]["mix"]]
                 + [["**per order**", *(f"${cost['per_order_usd'][o]:.8f}" for o in ("completed", "cancelled", "mix"))]]),
        "",
    ]
    return "\n".join(lines)


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


# ------------------------------------------------------------------------------------------- main

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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


def build_report(args, stack, m, started_at, duration_s, load_at_start, files):
    """The JSON report (schema at the top of this file) from the measurements `m` of run_all."""
    e2e, floor, counted = m["e2e"], m["floor"], m["counted"]
    warm_mean = {fn["binary"]: fn["warm_ms"]["mean"] for fn in m["functions"]}
    per = {o: per_order(*counted[o], warm_mean) for o in ("completed", "cancelled")}
    final = e2e["completed"] + e2e["cancelled"]
    fraction = round(e2e["completed"] / final, 4) if final else 1.0
    per["mix"] = mix(per["completed"], per["cancelled"], fraction)
    costs = {o: cost_per_million(per[o]) for o in per}
    saga, alone, loaded = e2e["latency_ms"]["all"], floor["alone"]["latency_ms"]["all"], floor["concurrent"]["latency_ms"]["all"]
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
        "ratio": {
            "saga_p50_over_floor_alone_p50": ratio(saga["p50"], alone["p50"]),
            "saga_p50_over_floor_p50": ratio(saga["p50"], loaded["p50"]),
            "saga_p99_over_floor_p99": ratio(saga["p99"], loaded["p99"]),
            "saga_orders_per_s_over_floor": ratio(e2e["orders_per_s"], floor["concurrent"]["orders_per_s"]),
            "saga_cloud_cpu_per_order_over_floor": ratio(e2e["cpu"]["cloud_cpu_ms_per_order"],
                                                         floor["cpu"]["cloud_cpu_ms_per_order"]),
        },
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
        (f"floor, {args.customers} customers (AWS calls only)", "#7570b3", "6 4", floor_latency["concurrent"]),
        ("floor, one order at a time", "#666666", "2 3", floor_latency["alone"]),
    ], f"Order latency, POST /orders → notification: {report['end_to_end']['orders']} orders, {args.customers} customers"))
    Path(files["markdown"]).write_text(markdown_report(report))
    progress.log(f"done in {report['duration_s']:.0f} s: {files['markdown']}")


if __name__ == "__main__":
    main()
