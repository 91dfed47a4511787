#!/usr/bin/env python3
"""Weakens each guarding condition of the DynamoDB stores, one at a time, and runs the crate's
store contract tests against it: every weakened condition must fail them. Prints one line per
condition, and which tests caught it. The source is restored after each run, whatever happens.

    python3 tests/store_mutants.py [NAME ...]     # all, or those named (e.g. inventory-no-oversell)

Each condition costs a rebuild of its crate's tests and a run of them on a local cloud: about
20 s on a quiet 2-core machine.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The cafe's condition weakened to one that always holds, still naming `:open` and `:max` (DynamoDB
# refuses a request with a value its expressions do not use).
ALWAYS = '"(attribute_not_exists(isOpen) OR isOpen = :open OR isOpen <> :open) AND (inProgress < :max OR inProgress >= :max OR attribute_not_exists(inProgress))"'

# name, file, what the condition reads, what it is weakened to, crates whose contract tests run.
MUTANTS = [
    ("inventory-first-decision-on-withdraw", "functions/inventory/src/store.rs",
     ".set_item(Some(row))\n            .condition_expression(FIRST_DECISION)", ".set_item(Some(row))",
     ["inventory"]),
    ("inventory-first-decision-on-reserve", "functions/inventory/src/store.rs",
     "&reserved,\n            )?))\n            .condition_expression(FIRST_DECISION)", "&reserved,\n            )?))",
     ["inventory"]),
    ("inventory-first-decision-on-out-of-stock", "functions/inventory/src/store.rs",
     "&out_of_stock,\n            )?))\n            .condition_expression(FIRST_DECISION)",
     "&out_of_stock,\n            )?))", ["inventory"]),
    ("inventory-no-oversell", "functions/inventory/src/store.rs",
     '"attribute_exists(qty) AND qty >= :cups"', '"attribute_exists(qty)"', ["inventory"]),
    ("inventory-restock-existing-only", "functions/inventory/src/store.rs",
     '.condition_expression("attribute_exists(stockName)")\n', "", ["inventory"]),
    ("inventory-release-once", "functions/inventory/src/store.rs",
     '"attribute_exists(entry) AND attribute_not_exists(#released)"', '"attribute_exists(entry)"',
     ["inventory"]),
    ("shared-put-if-absent", "shared/src/dynamo.rs",
     '.condition_expression("attribute_not_exists(#key)")',
     '.condition_expression("attribute_not_exists(#key) OR attribute_exists(#key)")',
     ["inventory", "beverage", "notify", "order"]),
    ("beverage-no-ingredient-below-zero", "functions/beverage/src/store.rs",
     '.condition_expression("qty >= :units")', '.condition_expression("attribute_exists(qty)")',
     ["beverage"]),
    ("beverage-unmetered-still-unmetered", "functions/beverage/src/store.rs",
     '.condition_expression("attribute_not_exists(qty)")',
     '.condition_expression("attribute_not_exists(qty) OR attribute_exists(qty)")', ["beverage"]),
    ("beverage-one-attempt-per-order", "functions/beverage/src/store.rs",
     '.condition_expression("attribute_not_exists(beverageId)")\n', "", ["beverage"]),
    ("beverage-machine-in-service", "functions/beverage/src/store.rs",
     '"attribute_not_exists(inService) OR inService = :yes"',
     '"attribute_not_exists(inService) OR inService = :yes OR inService <> :yes"', ["beverage"]),
    ("notify-claim-existing-only", "functions/notify/src/store.rs",
     '"attribute_exists(notificationId) AND attribute_not_exists(snsMessageId) \\\n',
     '"attribute_not_exists(snsMessageId) \\\n', ["notify"]),
    ("notify-claim-unsent-only", "functions/notify/src/store.rs",
     "attribute_exists(notificationId) AND attribute_not_exists(snsMessageId) \\\n                 AND (",
     "attribute_exists(notificationId) \\\n                 AND (", ["notify"]),
    ("notify-claim-lapsed-only", "functions/notify/src/store.rs",
     "(attribute_not_exists(sendingUntil) OR sendingUntil < :now)",
     "(attribute_not_exists(sendingUntil) OR sendingUntil < :now OR sendingUntil >= :now)", ["notify"]),
    ("notify-mark-existing-only", "functions/notify/src/store.rs",
     '.condition_expression("attribute_exists(notificationId)")\n            .expression_attribute_values(":id"',
     '.expression_attribute_values(":id"', ["notify"]),
    ("order-move-from-one-status", "functions/order/src/store.rs",
     '.condition_expression("#status = :from")', '.condition_expression("#status = :from OR #status <> :from")',
     ["order"]),
    ("order-stored-once", "functions/order/src/store/placing.rs",
     '.condition_expression("attribute_not_exists(orderId)")\n', "", ["order"]),
    ("order-cafe-takes-orders-on-placing", "functions/order/src/store/placing.rs",
     '.condition_expression(format!("{CAFE_TAKES_ORDERS} AND {unmoved}"))',
     '.condition_expression(format!("{} AND {unmoved}", ALWAYS_TAKES_ORDERS))', ["order"]),
    ("order-number-unmoved", "functions/order/src/store/placing.rs",
     '_ => "#today = :last",', '_ => "(#today = :last OR #today <> :last)",', ["order"]),
    ("order-first-number-of-the-day", "functions/order/src/store/placing.rs",
     '1 => "attribute_not_exists(#today)",', '1 => "(attribute_not_exists(#today) OR attribute_exists(#today))",',
     ["order"]),
    ("order-cafe-open", "functions/order/src/store.rs",
     "(attribute_not_exists(isOpen) OR isOpen = :open)",
     "(attribute_not_exists(isOpen) OR isOpen = :open OR isOpen <> :open)", ["order"]),
    ("order-cafe-has-room", "functions/order/src/store.rs",
     "(attribute_not_exists(inProgress) OR inProgress < :max)",
     "(attribute_not_exists(inProgress) OR inProgress < :max OR inProgress >= :max)", ["order"]),
    ("order-counts-within-limit", "functions/order/src/store/placing.rs",
     '"attribute_not_exists(placed) OR placed <= :room"',
     '"attribute_not_exists(placed) OR placed <= :room OR placed > :room"', ["order"]),
    ("order-kiosk-registered-with-its-secret", "functions/order/src/store/placing.rs",
     '"secretHash = :hash"', '"secretHash = :hash OR secretHash <> :hash OR attribute_not_exists(secretHash)"',
     ["order"]),
    ("order-number-proven-by-its-customer", "functions/order/src/store/placing.rs",
     '"phoneNumber = :phone"', '"phoneNumber = :phone OR phoneNumber <> :phone OR attribute_not_exists(phoneNumber)"',
     ["order"]),
    ("order-kiosk-not-for-a-phone-customer", "functions/order/src/store/placing.rs",
     '"attribute_not_exists(phoneNumber)"', '"attribute_not_exists(phoneNumber) OR attribute_exists(phoneNumber)"',
     ["order"]),
    ("order-new-customer-registered-once", "functions/order/src/store/placing.rs",
     '"attribute_not_exists(customerKey)"', '"attribute_not_exists(customerKey) OR attribute_exists(customerKey)"',
     ["order"]),
    ("sign-in-code-ends", "functions/order/src/store/sign_in.rs",
     "codeExpiresAt > :now", "(codeExpiresAt > :now OR codeExpiresAt <= :now)", ["order"]),
    ("sign-in-code-tries", "functions/order/src/store/sign_in.rs",
     "codeTries < :tries", "(codeTries < :tries OR codeTries >= :tries)", ["order"]),
    ("sign-in-code-for-its-number", "functions/order/src/store/sign_in.rs",
     '"phoneNumber = :phone AND', '"(phoneNumber = :phone OR phoneNumber <> :phone) AND', ["order"]),
    ("sign-in-code-used-once", "functions/order/src/store/sign_in.rs",
     '.condition_expression("codeHash = :hash")',
     '.condition_expression("codeHash = :hash OR codeHash <> :hash OR attribute_not_exists(codeHash)")',
     ["order"]),
    ("sign-in-number-keeps-its-customer", "functions/order/src/store/sign_in.rs",
     '"attribute_not_exists(customerId) OR customerId = :id"',
     '"attribute_not_exists(customerId) OR customerId = :id OR customerId <> :id"', ["order"]),
    ("token-checks-forget-only-unchanged", "shared/src/auth/published.rs",
     '.condition_expression(unchanged.join(" AND "))',
     '.condition_expression(format!("({}) OR attribute_exists(#c0)", unchanged.join(" AND ")))', ["shared"]),
    ("kiosk-first-event-wins", "functions/kiosk/src/store.rs",
     'Write::IfAbsent => format!("#a{i} = if_not_exists(#a{i}, :v{i})")',
     'Write::IfAbsent => format!("#a{i} = :v{i}")', ["kiosk"]),
    ("kiosk-count-once", "functions/kiosk/src/store.rs",
     '"attribute_exists(customerId) AND attribute_not_exists(countedAs)"', '"attribute_exists(customerId)"',
     ["kiosk"]),
    ("kiosk-alert-once-an-hour", "functions/kiosk/src/store.rs",
     '.condition_expression("attribute_not_exists(#alert)")',
     '.condition_expression("attribute_not_exists(#alert) OR attribute_exists(#alert)")', ["kiosk"]),
    ("payment-recorded-once", "functions/payment/src/store.rs",
     "AND attribute_not_exists(paymentId) AND", "AND (attribute_not_exists(paymentId) OR attribute_exists(paymentId)) AND",
     ["payment"]),
    ("payment-never-for-a-cancelled-order", "functions/payment/src/store.rs",
     "AND orderCancelled = :no", "AND (orderCancelled = :no OR orderCancelled <> :no)", ["payment"]),
    ("payment-moves-from-the-statuses-named", "functions/payment/src/store.rs",
     'format!("#status IN ({})", names.join(", "))',
     'format!("#status IN ({}) OR attribute_exists(#status)", names.join(", "))', ["payment"]),
]


# The tests that hold each crate's stores: its contract tests, and for the shared crate the token
# checks' tests (in the library: the checks are private to it).
TESTS = {
    "shared": ["--lib", "auth::published"],
    "kiosk": ["--test", "store_contract", "--test", "live_contract"],
    "order": ["--test", "store_contract", "--test", "sign_in_contract"],
}


def run_contract(crate):
    """The crate's contract tests: whether they passed, and the names of those that failed."""
    tests = TESTS.get(crate, ["--test", "store_contract"])
    # Every test binary runs, so that each one's catches are listed.
    out = subprocess.run(["cargo", "test", "-q", "--no-fail-fast", "-p", f"cafe-{crate}", *tests],
                         cwd=ROOT, capture_output=True, text=True)
    # The names of the failed tests, listed at the end of each binary's run under "failures:".
    failed = []
    for listed in out.stdout.split("\nfailures:\n")[1:]:
        failed += re.findall(r"^    (\S+)$", listed.split("\n\n")[0], re.M)
    if out.returncode != 0 and not failed:
        sys.exit(f"cafe-{crate} did not build or run:\n{out.stderr[-3000:]}")
    return out.returncode == 0, failed


def main():
    unknown = set(sys.argv[1:]) - {m[0] for m in MUTANTS}
    if unknown:
        sys.exit(f"no such condition: {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTANTS if len(sys.argv) == 1 or m[0] in sys.argv[1:]]
    survivors = []
    for name, path, condition, weakened, crates in chosen:
        file = ROOT / path
        source = file.read_text()
        if source.count(condition) != 1:
            sys.exit(f"{name}: the condition is not found exactly once in {path}")
        started = time.time()
        try:
            file.write_text(source.replace(condition, weakened.replace("ALWAYS_TAKES_ORDERS", ALWAYS)))
            caught = []
            for crate in crates:
                passed, failed = run_contract(crate)
                caught += [f"{crate}: {test}" for test in failed] if not passed else []
        finally:
            file.write_text(source)
        print(f"{name}: {'caught by ' + ', '.join(caught) if caught else 'SURVIVED'} "
              f"({time.time() - started:.0f} s)", flush=True)
        if not caught:
            survivors.append(name)
    if survivors:
        sys.exit(f"{len(survivors)} weakened conditions survived: {', '.join(survivors)}")


if __name__ == "__main__":
    main()
