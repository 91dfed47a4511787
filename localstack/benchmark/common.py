"""What every part of the benchmark shares: its settings and list prices, nearest-rank statistics,
progress lines, the API client and the CPU meters."""

import collections
import datetime
import http.client
import http.server
import json
import math
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions


ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
SCHEMA = "cafe-bench/3"
REGION = "us-east-1"
STOCK = "cup"


def step_record_id(step, order_id):
    """The id a step gives its record of an order (`beverage`, `notification`), as the functions
    make it (beverage_id_for, notification_id_for): one per order, whatever is redelivered."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{step}\n{order_id}"))

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

# What the emulator adds per invocation, read in its source, not measured here (docs/local-cloud.md).
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
BINARIES = ["order-api", "order-outbox", "order-events", "payment-events", "inventory-api", "inventory-events",
            "beverage-api", "beverage-events", "notify-api", "notify-events", "kiosk-api", "kiosk-events"]

SAGA_QUEUE_OUTPUTS = [f"{c}QueueUrl" for c in ("Payment", "Inventory", "Order", "Beverage", "Notify", "Kiosk")]
ESM_LINE = re.compile(r"ESM: Lambda (\S+) processed (\d+) (SQS messages|DynamoDB stream records) from (\S+)")
REPORT_DURATION = re.compile(r"Duration: ([\d.]+) ms")



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


class KeepAlive:
    """One keep-alive HTTP connection to `host:port` (for one thread): `send` answers with the
    status and the raw body."""

    def __init__(self, host, port):
        self.host, self.port, self.conn = host, port, None

    def send(self, method, path, body, headers):
        if self.conn is not None:
            try:
                return self.exchange(method, path, body, headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed this idle connection before the request reached it (it answers
                # every request it reads): send it once more on a new connection.
                self.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.exchange(method, path, body, headers)

    def exchange(self, method, path, body, headers):
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


class ApiClient:
    """One keep-alive HTTP connection to the cafe's REST API (one per thread), calling with `token`
    (the operator's, for stock and everyone's data) unless a request names its own."""

    def __init__(self, base_url, token=None):
        url = urllib.parse.urlsplit(base_url)
        self.prefix = url.path.rstrip("/") + "/"
        self.conn, self.token = KeepAlive(url.hostname, url.port or 80), token

    def request(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"}
        if token or self.token:
            headers["authorization"] = f"Bearer {token or self.token}"
        status, raw = self.conn.send(method, self.prefix + path, data, headers)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def close(self):
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
    MiniStack's Runtime API can cost, docs/local-cloud.md) is added to what is measured through it."""
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
