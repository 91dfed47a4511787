"""What one floor order calls: MinimalCalls, a minimal design's 10. Each call is timed and counted,
with the DynamoDB units it used (ReturnConsumedCapacity)."""

import collections
import datetime
import json
import re
import threading
import time
import urllib.parse
import uuid

from .common import REGION, STOCK, KeepAlive, step_record_id

s = lambda v: {"S": str(v)}  # noqa: E731
n = lambda v: {"N": str(v)}  # noqa: E731


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class ConditionalCheckFailed(Exception):
    pass


class TransactionCanceled(Exception):
    pass


class BareService:
    """One AWS service's JSON API over one keep-alive connection, unsigned (the local cloud checks
    no signature): the calls go out as boto3 would send them, at a small part of boto3's CPU, so
    the floor's clients leave the machine's cores to the cloud. `put_item(**request)` sends
    `<prefix>PutItem` with the request as its JSON body and returns the parsed answer."""

    ERRORS = {"ConditionalCheckFailedException": ConditionalCheckFailed,
              "TransactionCanceledException": TransactionCanceled}

    def __init__(self, endpoint, scope, target, content_type):
        url = urllib.parse.urlsplit(endpoint)
        self.host, self.port = url.hostname, url.port or 80
        self.target, self.local = target, threading.local()  # a connection per thread
        self.headers = {"Content-Type": content_type, "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/{scope}/aws4_request, SignedHeaders=host, Signature=0")}

    def send(self, body, headers):
        if not hasattr(self.local, "conn"):
            self.local.conn = KeepAlive(self.host, self.port)
        return self.local.conn.send("POST", "/", body, self.headers | headers)

    def __getattr__(self, operation):
        action = "".join(word.capitalize() for word in operation.split("_"))

        def call(**request):
            status, answer = self.send(json.dumps(request), {"X-Amz-Target": self.target + action})
            if status != 200:
                try:
                    code = json.loads(answer).get("__type", "").rsplit("#", 1)[-1]
                except ValueError:  # not an AWS error (e.g. a proxy's page): its status says it
                    code = None
                raise self.ERRORS.get(code, RuntimeError)(f"{action} answered {status}: {answer[:300]!r}")
            return json.loads(answer) if answer else {}
        return call


class BareSns(BareService):
    """SNS's query API: Publish only."""

    def publish(self, TopicArn, Message, MessageAttributes, Subject=None):  # noqa: N803 (the API's names)
        form = {"Action": "Publish", "Version": "2010-03-31", "TopicArn": TopicArn, "Message": Message}
        if Subject:
            form["Subject"] = Subject
        for i, (name, value) in enumerate(MessageAttributes.items(), 1):
            form |= {f"MessageAttributes.entry.{i}.Name": name, f"MessageAttributes.entry.{i}.Value.DataType": value["DataType"],
                     f"MessageAttributes.entry.{i}.Value.StringValue": value["StringValue"]}
        status, answer = self.send(urllib.parse.urlencode(form), {})
        found = re.search(rb"<MessageId>([^<]+)</MessageId>", answer)
        if status != 200 or not found:
            raise RuntimeError(f"Publish answered {status}: {answer[:300]!r}")
        return {"MessageId": found[1].decode()}


class Clients:
    """A client process's services (its customers run one to a process)."""

    def __init__(self, endpoint):
        self.ddb = BareService(endpoint, "dynamodb", "DynamoDB_20120810.", "application/x-amz-json-1.0")
        self.events = BareService(endpoint, "events", "AWSEvents.", "application/x-amz-json-1.1")
        self.sns = BareSns(endpoint, "sns", None, "application/x-www-form-urlencoded")


class Calls:
    """A customer's calls: each timed and counted by "<Service>.<Operation>"."""

    def __init__(self, clients, res, customer):
        self.c, self.res = clients, res
        self.call_ms = collections.defaultdict(list)
        self.calls = collections.Counter()
        self.units = collections.Counter()

    def call(self, name, fn, **kwargs):
        if name.startswith("DynamoDB."):
            kwargs["ReturnConsumedCapacity"] = "TOTAL"
        started = time.monotonic()
        try:
            answer = fn(**kwargs)
        except (ConditionalCheckFailed, TransactionCanceled):
            # A failed condition is billed as AWS does: 1 WRU per item, 2 in a transaction.
            self.units["wru"] += 2 * len(kwargs.get("TransactItems", [])) or 1
            raise
        finally:
            self.call_ms[name].append((time.monotonic() - started) * 1000)
            self.calls[name] += 1
        capacity = answer.get("ConsumedCapacity") or []
        for entry in capacity if isinstance(capacity, list) else [capacity]:
            self.units["rru" if name.split(".")[1] in ("GetItem", "Query", "BatchGetItem") else "wru"] += entry.get(
                "CapacityUnits", 0)
        return answer

    def publish(self, detail_type, detail):
        self.call("EventBridge.PutEvents", self.c.events.put_events, Entries=[{
            "EventBusName": self.res.name, "Source": "cafe.bench", "DetailType": detail_type,
            "Detail": json.dumps(detail)}])
        return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": "cafe.bench",
                "time": now(), "detail": detail}

    def put_new(self, table, item, key):
        try:
            self.call("DynamoDB.PutItem", self.c.ddb.put_item, TableName=self.res.table(table), Item=item,
                      ConditionExpression="attribute_not_exists(#k)", ExpressionAttributeNames={"#k": key})
        except ConditionalCheckFailed:
            pass


class MinimalCalls(Calls):
    """A minimal design's calls for one order (10 when it completes, 8 when it is cancelled): put
    the order, OrderPlaced, a conditional cup decrement, its outcome, put the beverage,
    BeverageMade, the order's final status, its event, put the notification, SNS. No queue hop:
    each step's code runs as soon as the previous call answers."""

    def order(self, customer_id, beverage, qty, _first_of_customer):
        order_id = str(uuid.uuid4())
        summary = {"orderId": order_id, "customerId": customer_id, "beverageName": beverage, "beverageQty": qty}
        started = time.monotonic()
        self.put_new("OrdersTable", {"orderId": s(order_id), "customerId": s(customer_id), "beverageName": s(beverage),
                                "beverageQty": n(qty), "orderStatus": s("pending"), "orderDate": s(now())}, "orderId")
        self.publish("OrderPlaced", summary)
        try:
            self.call("DynamoDB.UpdateItem", self.c.ddb.update_item, TableName=self.res.table("InventoryTable"),
                      Key={"stockName": s(STOCK), "entry": s("STOCK")}, UpdateExpression="SET qty = qty - :cups",
                      ConditionExpression="qty >= :cups", ExpressionAttributeValues={":cups": n(qty)})
            outcome = "completed"
            self.publish("CupStockDecreased", summary)
            beverage_id = step_record_id("beverage", order_id)
            self.put_new("BeveragesTable", {"beverageId": s(beverage_id), "orderId": s(order_id),
                                       "beverageName": s(beverage), "madeAt": s(now())}, "beverageId")
            self.publish("BeverageMade", summary | {"beverageId": beverage_id})
        except ConditionalCheckFailed:
            outcome = "cancelled"
            self.publish("CupOutOfStock", summary)
        self.call("DynamoDB.UpdateItem", self.c.ddb.update_item, TableName=self.res.table("OrdersTable"),
                  Key={"orderId": s(order_id)}, UpdateExpression="SET orderStatus = :to",
                  ConditionExpression="orderStatus = :pending",
                  ExpressionAttributeValues={":pending": s("pending"), ":to": s(outcome)})
        self.publish("OrderCompleted" if outcome == "completed" else "OrderCancelled", summary)
        notification_id = step_record_id("notification", order_id)
        self.put_new("NotificationsTable", {"notificationId": s(notification_id), "customerId": s(customer_id),
                                       "orderId": s(order_id), "orderStatus": s(outcome), "message": s("Your order"),
                                       "notificationDate": s(now())}, "notificationId")
        latency_ms = (time.monotonic() - started) * 1000
        self.call("SNS.Publish", self.c.sns.publish, TopicArn=self.res.topic, Message="Your order",
                  MessageAttributes={k: {"DataType": "String", "StringValue": v}
                                     for k, v in (("customerId", customer_id), ("orderStatus", outcome))})
        return outcome, latency_ms


FLOORS = {"minimal": MinimalCalls}
