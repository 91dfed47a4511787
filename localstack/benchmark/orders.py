"""The orders to place and the customers placing them: the plan, their kiosks, the tally of
outcomes, and waiting for each order's outcome."""

import concurrent.futures
import random
import threading
import time
import urllib.parse
import urllib.request

from .common import ApiClient, STOCK, parse_utc


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
                # Paid with Stripe's test card, as the kiosk page pays: the payment step holds and
                # takes the money at the stack's payment provider.
                status, order = api.request("POST", "orders", {"customerId": customer_id, "beverageName": beverage,
                                                               "beverageQty": qty, "paymentMethod": "pm_card_visa"},
                                            token=token or kiosk_tokens[index])
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
