"""The stack under test (the one `make up` deployed, or one of its own), and a second local cloud
whose functions reach AWS through a proxy that counts their calls."""

import collections
import http.client
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import botocore.config
import botocore.exceptions
import yaml

from deploy import CfnLoader
from .common import ESM_LINE, NoDelayHandler, QuietServer, REGION, ROOT, aws, free_port, healthy


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


def tables_of(request, each_item=False):
    """The tables a DynamoDB request names: once each, or once per item of a transaction."""
    if "TableName" in request:
        return [request["TableName"]]
    if "RequestItems" in request:
        return list(request["RequestItems"])
    items = [next(iter(item.values()))["TableName"] for item in request.get("TransactItems", [])]
    return items if each_item else sorted(set(items))


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
            request = json.loads(body) if operation in DYNAMODB_READS | DYNAMODB_WRITES else {}
            for table in tables_of(request):
                found[(service, f"#calls@{table}@{operation}")] += 1
            if status == 200:
                capacity = json.loads(answer).get("ConsumedCapacity") or []
                for entry in capacity if isinstance(capacity, list) else [capacity]:
                    found[(service, kind)] += entry.get("CapacityUnits", 0)
                    found[(service, f"{kind}@{entry.get('TableName')}")] += entry.get("CapacityUnits", 0)
            elif b"ConditionalCheckFailedException" in answer:
                found[(service, "#conditional_failures")] += 1
                found[(service, "#wru")] += 1
                found[(service, f"#wru@{request.get('TableName')}")] += 1
            elif b"TransactionCanceledException" in answer:
                found[(service, "#conditional_failures")] += 1
                for table in tables_of(request, each_item=True):
                    found[(service, "#wru")] += 2
                    found[(service, f"#wru@{table}")] += 2
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


# The counting cloud's order deadline: short, so that each order's timer fires (and is counted)
# within the count, long enough that no counted order meets it, cold functions on a busy machine
# included (an order's first pass wakes seven of them, the payment step among them).
COUNTED_DEADLINE_S = 30


class OwnCloud:
    """A second MiniStack on a free port, started with AWS_ENDPOINT_URL at a counting proxy (MiniStack
    gives every function its own AWS_ENDPOINT_URL), with the stack deployed by deploy.py, and a
    payment provider of its own (localstripe) that its payment function calls."""

    def __init__(self, workdir, stack_name):
        self.workdir, self.stack_name = workdir, stack_name
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proxy = CountingProxy(self.port)
        self.log_path = workdir / "ministack-counted.log"
        self.process = None
        self.payments_port = free_port()
        self.payments = None

    def start(self):
        # TMPDIR: where it unpacks the function code, removed with this script's work folder.
        env = dict(os.environ, BIND_HOST="127.0.0.1", GATEWAY_PORT=str(self.port), PYTHONUNBUFFERED="1", TMPDIR=str(self.workdir),
                   AWS_ENDPOINT_URL=f"http://127.0.0.1:{self.proxy.port}", AWS_ACCESS_KEY_ID="test",
                   AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION)
        with open(self.log_path, "wb") as log:
            # Its own process group: stopping it stops the bootstraps it started too.
            self.process = subprocess.Popen([str(ROOT / ".venv/bin/ministack")], env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with open(self.workdir / "payments-counted.log", "wb") as log:
            self.payments = subprocess.Popen([sys.executable, str(ROOT / "localstack/payments.py"),
                                              "--port", str(self.payments_port)],
                                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not healthy(self.endpoint):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"MiniStack did not start; see {self.log_path}")
            time.sleep(0.2)
        outputs_file = self.workdir / "outputs-counted.json"
        deploy = subprocess.run(
            [sys.executable, str(ROOT / "localstack/deploy.py"), "--endpoint", self.endpoint,
             "--stack-name", self.stack_name, "--outputs", str(outputs_file),
             "--parameter", f"OrderDeadlineSeconds={COUNTED_DEADLINE_S}",
             "--parameter", f"PaymentProviderUrl=http://127.0.0.1:{self.payments_port}"],
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
        """Stops MiniStack and every function process it started (its process group), and the
        payment provider."""
        if self.payments:
            self.payments.terminate()
            self.payments.wait(10)
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
