"""What one floor order calls: SagaCalls, every call the functions make for an order in the saga's
order; MinimalCalls, a minimal design's 10. Each call is timed and counted, with the DynamoDB
units it used (ReturnConsumedCapacity)."""

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
        self.sqs = BareService(endpoint, "sqs", "AmazonSQS.", "application/x-amz-json-1.0")
        self.sns = BareSns(endpoint, "sns", None, "application/x-www-form-urlencoded")


class Calls:
    """A customer's calls: each timed and counted by "<Service>.<Operation>"."""

    def __init__(self, clients, res, customer):
        self.c, self.res = clients, res
        self.queue_url, self.timer_url = res.queues[customer], res.timers[customer]
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


# The bus's rules (template.yaml): the queues each event is delivered to, besides the kiosk's,
# which takes every event.
CONSUMERS = {"OrderPlaced": ["inventory"], "CupStockDecreased": ["beverage"], "MakingRequested": ["order"],
             "OrderMaking": ["beverage"], "BeverageMade": ["order"], "OrderCompleted": ["notify"],
             "CupOutOfStock": ["order"], "OrderCancelled": ["notify", "inventory"], "CustomerNotified": []}
# The events that move an order on the pickup screen: the kiosk looks up the screens watching.
BOARD_MOVES = {"OrderMaking", "BeverageMade", "OrderCompleted", "OrderCancelled"}
CAFE_TAKES_ORDERS = ("(attribute_not_exists(isOpen) OR isOpen = :open) AND "
                     "(attribute_not_exists(inProgress) OR inProgress < :max)")
COUNT_ONE = {"UpdateExpression": "ADD placed :one SET expiresAt = :expires",
             "ConditionExpression": "attribute_not_exists(placed) OR placed < :max"}


class SagaCalls(Calls):
    """Every call the functions make for one order, in the saga's order (functions/*/src/store.rs,
    saga.rs and handlers.rs; shared/src/bus.rs and dynamo.rs), each function's calls once its
    event is delivered: a bus -> queue -> function delivery is an SQS send, receive and delete on
    this customer's queue, one per queue the bus's rules send the event to (CONSUMERS). The
    deadline timer is a message on the customer's timer queue, handled after the order ends."""

    def hop(self, envelope):
        self.call("SQS.SendMessage", self.c.sqs.send_message, QueueUrl=self.queue_url, MessageBody=json.dumps(envelope))
        self.receive(self.queue_url)

    def receive(self, queue_url, within_s=60):
        """Receives and deletes the one message this customer's queue holds; a message not there
        within `within_s` fails the order, so a lost delivery cannot hang the round."""
        deadline = time.monotonic() + within_s
        while True:
            got = self.call("SQS.ReceiveMessage", self.c.sqs.receive_message, QueueUrl=queue_url,
                            MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages")
            if got:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no message on {queue_url} within {within_s} s")
        self.call("SQS.DeleteMessage", self.c.sqs.delete_message, QueueUrl=queue_url,
                  ReceiptHandle=got[0]["ReceiptHandle"])

    def get(self, table, key):
        return self.call("DynamoDB.GetItem", self.c.ddb.get_item, TableName=self.res.table(table), Key=key,
                         ConsistentRead=True).get("Item")

    def transact(self, items):
        try:
            self.call("DynamoDB.TransactWriteItems", self.c.ddb.transact_write_items, TransactItems=items)
            return True
        except TransactionCanceled:
            return False

    def announce(self, order, detail_type, detail, step):
        """Publishes an event and delivers it to each of its consumers, whose calls `step(consumer)`
        makes; the kiosk's delivery waits in `order["kiosk"]` (it runs beside the saga, not in its
        way)."""
        envelope = self.publish(detail_type, order["summary"] | detail)
        order["kiosk"].append(envelope)
        if detail_type == "OrderPlaced":
            # order-outbox starts the order's deadline timer with its announcement.
            self.call("SQS.SendMessage", self.c.sqs.send_message, QueueUrl=self.timer_url,
                      MessageBody=json.dumps({"orderId": order["orderId"]}))
        for consumer in CONSUMERS[detail_type]:
            self.hop(envelope)
            step(consumer)

    def kiosk_view(self, order, envelope):
        detail_type = envelope["detail-type"]
        values = {"customerId": s(order["customerId"]), "listedAs": s("order"), "beverageName": s(order["beverage"]),
                  "beverageQty": n(order["qty"]), f"step#{detail_type}": s(json.dumps(
                      {"event": detail_type, "at": envelope["time"], "summary": f"{detail_type} of {order['beverage']}"})),
                  "orderDate": s(order["orderDate"]), "orderNumber": n(order["orderNumber"])}
        names = {f"#a{i}": name for i, name in enumerate(values)}
        self.call("DynamoDB.UpdateItem", self.c.ddb.update_item, TableName=self.res.table("KioskTable"),
                  Key={"orderId": s(order["orderId"])}, ExpressionAttributeNames=names,
                  ExpressionAttributeValues={f":v{i}": v for i, v in enumerate(values.values())},
                  UpdateExpression="SET " + ", ".join(f"#a{i} = if_not_exists(#a{i}, :v{i})" for i in range(len(values))),
                  ReturnValues="ALL_NEW")
        if detail_type in BOARD_MOVES:
            self.call("DynamoDB.Query", self.c.ddb.query, TableName=self.res.table("LiveConnectionsTable"),
                      IndexName="byTopic", KeyConditionExpression="#p = :v", ExpressionAttributeNames={"#p": "topic"},
                      ExpressionAttributeValues={":v": s("board")}, Limit=500)

    def move(self, order_id, source, target, final):
        """order-events: the order's status moves, conditionally; a final move gives its place in
        the cafe back in the same transaction."""
        moved = {"TableName": self.res.table("OrdersTable"), "Key": {"orderId": s(order_id)},
                 "UpdateExpression": "SET #status = :to", "ConditionExpression": "#status = :from",
                 "ExpressionAttributeNames": {"#status": "orderStatus"},
                 "ExpressionAttributeValues": {":from": s(source), ":to": s(target)}}
        if not final:
            self.call("DynamoDB.UpdateItem", self.c.ddb.update_item, **moved)
            return
        self.transact([{"Update": moved}, {"Update": {
            "TableName": self.res.table("CustomersTable"), "Key": {"customerKey": s("cafe")},
            "UpdateExpression": "ADD inProgress :less", "ExpressionAttributeValues": {":less": n(-1)}}}])

    def place(self, customer_id, beverage, qty, first_of_customer):
        """order-api: the order number (the cafe open and not full), then the order, the cafe's
        count and the customer's count this minute in one transaction (and for a first order the
        kiosk's check, its count and the customer's registration)."""
        table = self.res.table("CustomersTable")
        if first_of_customer:
            self.get("CustomersTable", {"customerKey": s("kiosk#floor")})
        day = datetime.date.today()
        taken = self.call("DynamoDB.UpdateItem", self.c.ddb.update_item, TableName=table, Key={"customerKey": s("cafe")},
                          UpdateExpression="ADD #today :one REMOVE #yesterday", ConditionExpression=CAFE_TAKES_ORDERS,
                          ExpressionAttributeNames={"#today": f"number#{day}",
                                                    "#yesterday": f"number#{day - datetime.timedelta(days=1)}"},
                          ExpressionAttributeValues={":one": n(1), ":open": {"BOOL": True}, ":max": n(1_000_000)},
                          ReturnValues="UPDATED_NEW")
        order = {"orderId": str(uuid.uuid4()), "customerId": customer_id, "beverage": beverage, "qty": qty,
                 "orderDate": now(), "orderNumber": int(taken["Attributes"][f"number#{day}"]["N"])}
        order["kiosk"] = []
        order["summary"] = {"orderId": order["orderId"], "customerId": customer_id, "beverageName": beverage,
                            "beverageQty": qty, "orderNumber": order["orderNumber"]}
        minute = int(time.time()) // 60
        count = lambda key, most: {"Update": {  # noqa: E731
            "TableName": table, "Key": {"customerKey": s(key)}, **COUNT_ONE,
            "ExpressionAttributeValues": {":one": n(1), ":max": n(most), ":expires": n((minute + 2) * 60)}}}
        writes = [
            {"Put": {"TableName": self.res.table("OrdersTable"), "ConditionExpression": "attribute_not_exists(orderId)",
                     "Item": {"orderId": s(order["orderId"]), "customerId": s(customer_id), "beverageName": s(beverage),
                              "beverageQty": n(qty), "stockName": s(STOCK), "orderStatus": s("pending"),
                              "orderDate": s(order["orderDate"]), "orderNumber": n(order["orderNumber"]),
                              "listedAs": s("order")}}},
            {"Update": {"TableName": table, "Key": {"customerKey": s("cafe")}, "UpdateExpression": "ADD inProgress :one",
                        "ConditionExpression": CAFE_TAKES_ORDERS,
                        "ExpressionAttributeValues": {":one": n(1), ":open": {"BOOL": True}, ":max": n(1_000_000)}}},
            count(f"rate#{customer_id}#{minute}", 20),
        ]
        if first_of_customer:
            writes[:0] = [{"ConditionCheck": {"TableName": table, "Key": {"customerKey": s("kiosk#floor")},
                                              "ConditionExpression": "secretHash = :hash",
                                              "ExpressionAttributeValues": {":hash": s("floor")}}},
                          count(f"kioskrate#{customer_id}#{minute}", 30)]
            writes.append({"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(customerKey)",
                                   "Item": {"customerKey": s(f"customer#{customer_id}"), "firstOrderId": s(order["orderId"])}}})
        self.transact(writes)
        return order

    def order(self, customer_id, beverage, qty, first_of_customer):
        """Returns (outcome, ms from the order's first call to storing its notification)."""
        started = time.monotonic()
        order = self.place(customer_id, beverage, qty, first_of_customer)
        order_id, ended = order["orderId"], {}

        def inventory(event):
            def step(_consumer):
                if event == "OrderCancelled":  # the cups back, if any were reserved
                    self.get("InventoryTable", {"stockName": s(STOCK), "entry": s(f"RESERVATION#{order_id}")})
                    return
                reservation = {"stockName": s(STOCK), "entry": s(f"RESERVATION#{order_id}"), "orderId": s(order_id),
                               "decidedAt": s(now())}
                reserved = self.transact([
                    {"Put": {"TableName": self.res.table("InventoryTable"), "ConditionExpression": "attribute_not_exists(entry)",
                             "Item": reservation | {"reservation": s(json.dumps({"outcome": "reserved", "cups": qty}))}}},
                    {"Update": {"TableName": self.res.table("InventoryTable"), "Key": {"stockName": s(STOCK), "entry": s("STOCK")},
                                "UpdateExpression": "SET qty = qty - :cups, updatedAt = :now",
                                "ConditionExpression": "attribute_exists(qty) AND qty >= :cups",
                                "ExpressionAttributeValues": {":cups": n(qty), ":now": s(now())}}}])
                if reserved:
                    self.announce(order, "CupStockDecreased", {"stockName": STOCK, "cupsReserved": qty}, beverage_step)
                    return
                self.get("InventoryTable", {"stockName": s(STOCK), "entry": s("STOCK")})
                self.put_new("InventoryTable", reservation | {"reservation": s(json.dumps({"outcome": "outOfStock"}))}, "entry")
                self.announce(order, "CupOutOfStock", {"stockName": STOCK, "reason": "out of cups"}, order_step("cancelled"))
            return step

        def beverage_step(_consumer):
            # CupStockDecreased: the machine asks to make it.
            self.announce(order, "MakingRequested", {"stockName": STOCK}, order_step("making"))

        def making(_consumer):
            beverage_id = step_record_id("beverage", order_id)
            self.get("BeveragesTable", {"beverageId": s(beverage_id)})
            machine = self.res.table("MachineTable")
            parts = [{"part": s("machine"), "name": s("state")}] + [
                {"part": s("ingredient"), "name": s(name)} for name in self.res.recipes[beverage]]
            self.call("DynamoDB.BatchGetItem", self.c.ddb.batch_get_item,
                      RequestItems={machine: {"Keys": parts, "ConsistentRead": True}})
            self.transact([
                {"Put": {"TableName": self.res.table("BeveragesTable"), "ConditionExpression": "attribute_not_exists(beverageId)",
                         "Item": {"beverageId": s(beverage_id), "orderId": s(order_id), "customerId": s(customer_id),
                                  "beverageName": s(beverage), "beverageQty": n(qty), "madeAt": s(now())}}},
                {"ConditionCheck": {"TableName": machine, "Key": parts[0],
                                    "ConditionExpression": "attribute_not_exists(inService) OR inService = :yes",
                                    "ExpressionAttributeValues": {":yes": {"BOOL": True}}}},
            ] + [{"ConditionCheck": {"TableName": machine, "Key": part, "ConditionExpression": "attribute_not_exists(qty)"}}
                 for part in parts[1:]])
            self.announce(order, "BeverageMade", {"beverageId": beverage_id, "madeAt": now()}, order_step("completed"))

        def order_step(target):
            def step(_consumer):
                if target == "making":
                    self.move(order_id, "pending", "making", final=False)
                    # order-outbox (stream): OrderMaking.
                    self.announce(order, "OrderMaking", {"stockName": STOCK}, making)
                    return
                self.move(order_id, "pending" if target == "cancelled" else "making", target, final=True)
                ended["outcome"] = target
                event = "OrderCompleted" if target == "completed" else "OrderCancelled"
                self.announce(order, event, {}, lambda consumer: notify() if consumer == "notify" else inventory(event)(consumer))
            return step

        def notify():
            notification_id = step_record_id("notification", order_id)
            self.put_new("NotificationsTable", {
                "notificationId": s(notification_id), "customerId": s(customer_id), "orderId": s(order_id),
                "orderStatus": s(ended["outcome"]), "message": s("Your order"), "notificationDate": s(now()),
                "sendingUntil": n(int(time.time() * 1000) + 20_000)}, "notificationId")
            ended["latency_ms"] = (time.monotonic() - started) * 1000
            message_id = self.call("SNS.Publish", self.c.sns.publish, TopicArn=self.res.topic, Subject="Your order",
                                   Message="Your order", MessageAttributes={
                                       k: {"DataType": "String", "StringValue": v} for k, v in
                                       (("customerId", customer_id), ("orderStatus", ended["outcome"]), ("orderId", order_id))})
            self.call("DynamoDB.UpdateItem", self.c.ddb.update_item, TableName=self.res.table("NotificationsTable"),
                      Key={"notificationId": s(notification_id)}, UpdateExpression="SET snsMessageId = :id",
                      ExpressionAttributeValues={":id": s(message_id["MessageId"])})
            self.announce(order, "CustomerNotified", {"notificationId": notification_id}, None)

        # order-outbox (stream): OrderPlaced. It returns once every step it led to has run.
        self.announce(order, "OrderPlaced", {"stockName": STOCK, "orderDate": order["orderDate"]}, inventory("OrderPlaced"))
        # kiosk-events, beside the saga: each event delivered and folded into the view.
        for envelope in order["kiosk"]:
            self.hop(envelope)
            self.kiosk_view(order, envelope)
        # The deadline, long after: order-events reads the order's status, which has ended.
        self.receive(self.timer_url)
        self.get("OrdersTable", {"orderId": s(order_id)})
        return ended["outcome"], ended["latency_ms"]


FLOORS = {"saga_calls": SagaCalls, "minimal": MinimalCalls}
