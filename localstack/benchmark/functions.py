"""Every function's bootstrap (in target/lambda/, or CAFE_LAMBDA_DIR), run against this
benchmark's own Lambda Runtime API: init, warm handler durations, memory."""

import json
import queue
import re
import shutil
import subprocess
import threading
import time
import uuid
import zipfile
from pathlib import Path

from deploy import function_archive

from .common import (
    BINARIES,
    EVENTS,
    NoDelayHandler,
    PRICES,
    QuietServer,
    REGION,
    STOCK,
    aws,
    nearest_rank,
    stats,
)


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
        archive = function_archive(binary)
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
            "payment-events": "OrderPlaced (order-placed.json), new order id each: holds 2,500 KRW on a test card at the stack's payment provider",
            "inventory-events": "PaymentAuthorized (payment-authorized.json), new order id each: reserves 1 cup",
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
        if binary == "payment-events":
            return sqs_event("order-placed.json", orderId=fresh)
        if binary == "inventory-events":
            return sqs_event("payment-authorized.json", orderId=fresh)
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
