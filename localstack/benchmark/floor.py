"""The floor: the AWS calls one order needs, made directly with boto3, which is what the local
cloud itself allows with no Lambda and no API Gateway in between."""

import collections
import concurrent.futures
import datetime
import json
import time
import uuid

from .common import STOCK, aws, stats, step_record_id
from .orders import ORDERS_PER_CUSTOMER, OrderTally, plan_orders


class FloorResources:
    """Scratch copies of what one order touches, on the endpoint under test: the five tables (same
    keys and stream as template.yaml, and a keys-only byCustomer index where the table has one;
    the template's other indexes are left out), a bus without rules, a topic, and one queue per
    worker standing in for each bus -> queue -> event source mapping hop."""

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
                    "IndexName": "byCustomer", "Projection": {"ProjectionType": "KEYS_ONLY"},
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
            beverage_id = step_record_id("beverage", order_id)
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
        notification_id = step_record_id("notification", order_id)
        self.get("notifications", {"notificationId": s(notification_id)})
        self.put_new("notifications", {"notificationId": s(notification_id), "customerId": s(customer_id),
                                       "orderId": s(order_id), "orderStatus": s(outcome), "message": s("Your order"),
                                       "notificationDate": s(now()), "sms": {"BOOL": False}}, "notificationId")
        latency_ms = (time.monotonic() - started) * 1000
        # ... then, after the moment measured: the sending claimed (one delivery at a time, for the
        # functions' 20 s timeout), SNS, marked sent, CustomerNotified.
        now_ms = int(time.time() * 1000)
        self.call("DynamoDB.UpdateItem", self.res.ddb.update_item, TableName=self.res.table("notifications"),
                  Key={"notificationId": s(notification_id)}, UpdateExpression="SET sendingUntil = :until",
                  ConditionExpression="attribute_exists(notificationId) AND attribute_not_exists(snsMessageId) "
                                      "AND (attribute_not_exists(sendingUntil) OR sendingUntil < :now)",
                  ExpressionAttributeValues={":until": {"N": str(now_ms + 20_000)}, ":now": {"N": str(now_ms)}})
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
