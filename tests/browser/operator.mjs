// Runs the cafe from the operator's page in headless Chromium, one control after another, as an
// operator would, and checks each effect through the API with the operator's own token: the
// dead-letter queues' counts, stock and ingredient levels, opening and closing, the machine in and
// out of service, registering a kiosk from its QR code and revoking it, signing a customer out,
// cancelling a pending order. At the end the page's cup level and its day at a glance (orders by
// outcome and cause, time to ready, how fast the cups go) agree with the orders placed; the
// alerts of the machine out of service and of cups running out show on it; a price set and a
// beverage taken off sale on it show on the kiosk page.
import assert from "node:assert/strict";
import { join } from "node:path";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { SAGA, cloudOperator, launchBrowser, scriptArguments } from "./harness.mjs";

const { url, shots } = scriptArguments("operator.mjs");
// The operator's and a registered kiosk's tokens come in the environment, never on a command line.
const operatorToken = process.env.CAFE_OPERATOR_TOKEN;
const kioskToken = process.env.CAFE_KIOSK_TOKEN;
const operatorOfCloud = cloudOperator();
const step = (what) => console.log(`[operator] ${what}`);

/** The API as `token`'s holder calls it: `{ status, body }`. */
async function api(method, path, token = operatorToken, body = undefined) {
  const headers = { authorization: `Bearer ${token}` };
  if (body) headers["content-type"] = "application/json";
  const response = await fetch(new URL(path, url), { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** Waits until `check()` answers `{ ok: true }`; fails with what it last saw after the saga's timeout. */
async function until(what, check) {
  const deadline = Date.now() + SAGA.timeout;
  for (;;) {
    const { ok, seen } = await check();
    if (ok) return seen;
    if (Date.now() > deadline) assert.fail(`${what}: saw ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const orderAt = (token, customerId, beverageName, beverageQty = 1) =>
  api("POST", "orders", token, { customerId, beverageName, beverageQty });
const settled = (orderId) => until(`order ${orderId} ends`, async () => {
  const seen = (await api("GET", `orders/${orderId}`)).body;
  return { ok: seen?.orderStatus === "completed" || seen?.orderStatus === "cancelled", seen };
});

const browser = await launchBrowser();
try {
  const office = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const page = await office.newPage();
  await page.goto(`${url}operator`);
  await page.getByLabel("Operator token").fill(operatorToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  const cupsOnPage = page.locator('#stock tr[data-stock="cup"] td:nth-child(2)');

  step("dead letters: each queue's count, and how to redrive them once one waits");
  const deadLetters = page.locator("#dead-letters tr");
  await page.locator("#dead-letters-state").filter({ hasText: "Nothing waiting" }).waitFor();
  assert.deepEqual(await deadLetters.evaluateAll((rows) => rows.map((r) => [r.dataset.queue, r.cells[1].textContent])),
    ["inventory", "order", "beverage", "notify", "kiosk", "payment", "outbox", "bus"].map((q) => [q, "0"]));
  assert.ok(await page.locator("#dead-letters-how").isHidden(), "no redrive advice while nothing waits");
  await operatorOfCloud.ask("a message in the inventory dead-letter queue");
  await page.locator("#dead-letters-state").filter({ hasText: "1 message waits" }).waitFor();
  await page.locator('#dead-letters tr.waiting[data-queue="inventory"] td:nth-child(2)').filter({ hasText: /^1$/ }).waitFor();
  await page.locator("#dead-letters-how").filter({ hasText: "localstack/dlq.py redrive" }).waitFor();
  await page.screenshot({ path: join(shots, "operator-dead-letter.png"), fullPage: true });
  await operatorOfCloud.ask("the inventory dead-letter queue emptied");
  await page.locator("#dead-letters-state").filter({ hasText: "Nothing waiting" }).waitFor();

  step("stock: the page sets 12 cups and 40 units of beans");
  await page.getByLabel("Stock item to set").fill("cup");
  await page.getByLabel("Level to set").fill("12");
  await page.getByRole("button", { name: "Set stock level" }).click();
  await cupsOnPage.filter({ hasText: /^12$/ }).waitFor();
  assert.equal((await api("GET", "inventories/cup")).body.qty, 12);
  await page.getByLabel("Ingredient to set").fill("beans");
  await page.getByLabel("Units of the ingredient").fill("40");
  await page.getByRole("button", { name: "Set ingredient level" }).click();
  await page.locator('#ingredients tr[data-ingredient="beans"] td:nth-child(2)').filter({ hasText: /^40$/ }).waitFor();
  assert.equal((await api("GET", "ingredients/beans")).body.qty, 40);

  step("closing the cafe refuses the kiosks' orders; opening it takes them again");
  await page.getByRole("button", { name: "Close the cafe" }).click();
  await page.locator("#cafe-state").filter({ hasText: /^Closed/ }).waitFor();
  assert.equal((await api("GET", "cafe")).body.open, false);
  const refused = await orderAt(kioskToken, "walk-in-1", "americano");
  assert.deepEqual([refused.status, refused.body?.error?.code], [409, "cafe_closed"]);
  await page.getByRole("button", { name: "Open the cafe" }).click();
  await page.locator("#cafe-state").filter({ hasText: /^Open/ }).waitFor();
  assert.equal((await api("GET", "cafe")).body.open, true);

  step("the machine out of service fails an order and gives its cups back; back in service");
  await page.getByRole("button", { name: "Take the machine out of service" }).click();
  await page.locator("#machine-state").filter({ hasText: "out of service" }).waitFor();
  assert.equal((await api("GET", "machine")).body.inService, false);
  const failed = await orderAt(kioskToken, "walk-in-1", "americano");
  assert.equal(failed.status, 201, JSON.stringify(failed.body));
  assert.equal((await settled(failed.body.orderId)).orderStatus, "cancelled");
  await page.getByRole("button", { name: "Put the machine in service" }).click();
  await page.locator("#machine-state").filter({ hasText: "is in service" }).waitFor();
  assert.equal((await api("GET", "machine")).body.inService, true);

  step("a kiosk registered from the page: its QR code opens the kiosk page as that kiosk");
  await page.getByLabel("Register a kiosk named").fill("front door");
  await page.getByRole("button", { name: "Register kiosk" }).click();
  await page.locator("#new-kiosk-qr[src]").waitFor();
  // Read as a kiosk's camera would, once the image is painted (on a busy machine that can take
  // more than one frame).
  await page.locator("#new-kiosk-qr").evaluate((img) => img.decode());
  const scanned = await until("the QR code reads", async () => {
    const png = PNG.sync.read(await page.locator("#new-kiosk-qr").screenshot());
    const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
    return { ok: code !== undefined, seen: code };
  });
  const shown = await page.locator("#new-kiosk-link").textContent();
  assert.equal(scanned, shown, "the QR code is the link shown");
  assert.ok(shown.startsWith(`${url}#kiosk=k1.`), shown);
  const frontDoorToken = shown.split("#kiosk=")[1];
  await page.screenshot({ path: join(shots, "operator-new-kiosk.png"), fullPage: true });
  const frontDoor = (await api("GET", "kiosks")).body.find((k) => k.kioskName === "front door");
  assert.ok(frontDoor, "the kiosk is registered");
  await page.getByRole("button", { name: "Done: hide the link" }).click();
  assert.equal(await page.locator("#new-kiosk-qr").getAttribute("src"), null, "the link is gone from the page");

  const screen = await browser.newContext({ viewport: { width: 1080, height: 1600 }, hasTouch: true });
  const kiosk = await screen.newPage();
  await kiosk.goto(scanned);
  await kiosk.getByRole("button", { name: "Americano" }).waitFor();
  await kiosk.getByLabel("Customer id").fill("walk-in-2");
  await kiosk.getByRole("button", { name: "Americano" }).tap();
  await kiosk.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await kiosk.locator(".card .status", { hasText: "completed" }).waitFor(SAGA);
  const frontDoorRow = page.locator(`#kiosks tr[data-kiosk-id="${frontDoor.kioskId}"]`);
  await frontDoorRow.locator("td:nth-child(2)").filter({ hasText: /^1$/ }).waitFor();
  await frontDoorRow.locator("td:nth-child(3)").filter({ hasText: /^1$/ }).waitFor();

  step("revoking the kiosk (asked twice) stops its orders");
  await frontDoorRow.getByRole("button", { name: "Revoke" }).click();
  await frontDoorRow.getByRole("button", { name: "Really revoke?" }).click();
  await page.locator("#kiosk-message").filter({ hasText: "front door is revoked" }).waitFor();
  await frontDoorRow.waitFor({ state: "detached" });
  assert.ok(!(await api("GET", "kiosks")).body.some((k) => k.kioskId === frontDoor.kioskId), "the kiosk is gone");
  assert.equal((await orderAt(frontDoorToken, "walk-in-3", "americano")).status, 401);
  await screen.close();

  step("signing a customer out from the page ends their token");
  const first = await orderAt(kioskToken, "walk-in-4", "americano");
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const customerToken = first.body.customerToken;
  assert.equal((await api("GET", "orders?customerId=walk-in-4", customerToken)).status, 200);
  await page.getByLabel("Customer id to sign out").fill("walk-in-4");
  await page.getByRole("button", { name: "Sign the customer out" }).click();
  await page.locator("#customer-message").filter({ hasText: "walk-in-4 is signed out everywhere" }).waitFor();
  assert.equal((await api("GET", "orders?customerId=walk-in-4", customerToken)).status, 401);
  await settled(first.body.orderId);

  step("a pending order cancelled from the page, while the machine's step is down");
  await operatorOfCloud.ask("beverage step off");
  const waiting = await orderAt(kioskToken, "walk-in-5", "latte");
  assert.equal(waiting.status, 201, JSON.stringify(waiting.body));
  const waitingRow = page.locator(`#recent tr[data-order-id="${waiting.body.orderId}"]`);
  await waitingRow.getByRole("button", { name: "Cancel" }).click();
  await page.locator("#orders-message").filter({ hasText: "walk-in-5: cancelled" }).waitFor();
  await waitingRow.locator(".status.cancelled").waitFor();
  const cancelled = (await api("GET", `orders/${waiting.body.orderId}`)).body;
  assert.deepEqual([cancelled.orderStatus, cancelled.reason], ["cancelled", "cancelled by the cafe"]);
  await operatorOfCloud.ask("beverage step on");

  step("the page's cups agree with the orders placed: 12 stocked less the completed orders' cups");
  const expected = await until("every order ends and its cups are counted", async () => {
    const orders = (await api("GET", "orders?limit=100")).body;
    const cups = (await api("GET", "inventories/cup")).body.qty;
    const completed = orders.filter((o) => o.orderStatus === "completed").reduce((n, o) => n + o.beverageQty, 0);
    const open = orders.filter((o) => o.orderStatus !== "completed" && o.orderStatus !== "cancelled").length;
    return { ok: open === 0 && cups === 12 - completed, seen: { cups, completed, open } };
  });
  await cupsOnPage.filter({ hasText: new RegExp(`^${expected.cups}$`) }).waitFor();
  assert.equal(expected.completed, 2, "walk-in-2's and walk-in-4's americanos were made");
  console.log(`[operator] the page shows ${expected.cups} cups: 12 stocked - ${expected.completed} of completed orders`);

  step("the day at a glance agrees with the orders placed: by outcome and cause, time to ready, cups going");
  const orders = (await api("GET", "orders?limit=100")).body;
  const completedOrders = orders.filter((o) => o.orderStatus === "completed").length;
  const byOutcome = { completed: completedOrders };
  for (const o of orders.filter((o) => o.orderStatus === "cancelled")) byOutcome[o.reason] = (byOutcome[o.reason] ?? 0) + 1;
  const sorted = (counts) => JSON.stringify(Object.entries(counts).sort());
  const legend = await until("the page's day shows every order by outcome", async () => {
    const seen = Object.fromEntries(await page.locator("#day-legend li").evaluateAll((items) =>
      items.map((li) => [li.dataset.cause, Number(li.dataset.count)])));
    return { ok: sorted(seen) === sorted(byOutcome), seen };
  });
  console.log(`[operator] the day's legend: ${JSON.stringify(legend)}`);
  assert.ok(Object.keys(byOutcome).includes("cancelled by the cafe") && completedOrders === 2, JSON.stringify(byOutcome));
  const bars = await page.locator("#day-chart g").evaluateAll((groups) =>
    groups.map((g) => [Number(g.dataset.completed), Number(g.dataset.cancelled)]));
  assert.equal(bars.length, 24, "a bar for each of the last 24 hours");
  assert.deepEqual(bars.reduce(([c, x], [a, b]) => [c + a, x + b], [0, 0]), [completedOrders, orders.length - completedOrders],
    "the bars add up to the orders");
  const day = (await api("GET", "kiosk/day")).body;
  assert.equal(day.orderToReady.orders, completedOrders);
  assert.ok(day.orderToReady.medianSeconds <= day.orderToReady.slowestSeconds, JSON.stringify(day.orderToReady));
  await page.locator("#day-ready").filter({ hasText: `slowest ${day.orderToReady.slowestSeconds} s, over ${completedOrders} orders` }).waitFor();
  assert.equal(day.usage.find((u) => u.name === "cup")?.used, expected.completed, JSON.stringify(day.usage));
  const cupRate = await page.locator('#stock tr[data-stock="cup"] td:nth-child(3)').textContent();
  assert.ok(Number(cupRate) > 0, `the cups go at ${cupRate} an hour`);

  step("alerts: the order failed on the machine out of service; cups that run out within the hour");
  await page.locator('#alerts li[data-subject="machine"]').filter({ hasText: "machine is out of service" }).waitFor();
  await page.getByLabel("Stock item to set").fill("cup");
  await page.getByLabel("Level to set").fill("1");
  await page.getByRole("button", { name: "Set stock level" }).click();
  await cupsOnPage.filter({ hasText: /^1$/ }).waitFor();
  const last = await orderAt(kioskToken, "walk-in-6", "americano");
  assert.equal(last.status, 201, JSON.stringify(last.body));
  // The order leaves no cup, and they go at 2 or more an hour.
  await page.locator('#alerts li[data-subject="cup"]').filter({ hasText: "cup has run out" }).waitFor();
  assert.equal((await settled(last.body.orderId)).orderStatus, "completed");
  await page.locator("#day-summary").filter({ hasText: `${completedOrders + 1} completed` }).waitFor();
  await page.screenshot({ path: join(shots, "operator-console.png"), fullPage: true });

  step("the menu: a price set on the page and a beverage taken off sale show on the kiosk at once");
  await page.getByLabel("Beverage to price").fill("latte");
  await page.getByLabel("Price, in the currency's minor units").fill("4200");
  await page.getByRole("button", { name: "Set price" }).click();
  await page.locator("#menu-message").filter({ hasText: "from the next order on" }).waitFor();
  assert.equal((await api("GET", "menu")).body.find((item) => item.beverageName === "latte").price, 4200);
  const icedTea = page.locator('#menu tr[data-beverage="iced-tea"]');
  await icedTea.getByRole("button", { name: "Take off sale" }).click();
  await icedTea.getByRole("button", { name: "Put on sale" }).waitFor();
  assert.equal((await api("GET", "menu")).body.find((item) => item.beverageName === "iced-tea").onSale, false);
  const shop = await browser.newContext({ viewport: { width: 1080, height: 1600 }, hasTouch: true });
  const shelf = await shop.newPage();
  await shelf.goto(url);
  await shelf.getByRole("button", { name: "Caffè latte" }).filter({ hasText: "4,200" }).waitFor();
  assert.ok(await shelf.getByRole("button", { name: "Iced tea" }).isDisabled(), "off sale: not offered");
  await shop.close();

  step("on a phone: one column, the chart scrolls inside its box and nothing else is wider than the screen");
  const pocket = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phone = await pocket.newPage();
  await phone.goto(`${url}operator`);
  await phone.getByLabel("Operator token").fill(operatorToken);
  await phone.getByRole("button", { name: "Sign in" }).tap();
  await phone.locator("#day-legend li").first().waitFor();
  await phone.locator("#alerts li").first().waitFor();
  const widths = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `the page is ${widths[0]} px wide on a ${widths[1]} px screen`);
  await phone.screenshot({ path: join(shots, "operator-phone.png"), fullPage: true });
  await pocket.close();
  console.log("[operator] all checks passed");
} finally {
  operatorOfCloud.close();
  await browser.close();
}
