// Clicks through the kiosk page and the operator's page in headless Chromium, as customers and an
// operator would:
//   node tests/browser/kiosk.mjs <kiosk URL> <screenshot folder>
// Run by tests/tests/kiosk_page.rs against a freshly deployed stack. Exits non-zero on the
// first expectation that fails, saying what the page showed.
import { SAGA, cloudOperator, launchBrowser, scriptArguments } from "./harness.mjs";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import assert from "node:assert/strict";
import { join } from "node:path";

const { url, shots } = scriptArguments("kiosk.mjs");
// The operator's and a registered kiosk's tokens come in the environment, never on a command line.
const operatorToken = process.env.CAFE_OPERATOR_TOKEN;
const kioskToken = process.env.CAFE_KIOSK_TOKEN;
// The local cloud's log of texts sent, standing in for the customer's phone.
const smsLog = process.env.CAFE_SMS_LOG;
const browser = await launchBrowser();
const step = (what) => console.log(`[kiosk] ${what}`);
const operatorOfCloud = cloudOperator();
const cloud = operatorOfCloud.ask;

try {
  // The operator's page, on its own screen, with a clock the test can move.
  const office = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await office.clock.install();
  const operator = await office.newPage();
  const sessions = [];
  operator.on("response", async (r) => {
    if (r.url().endsWith("/sessions") && r.status() === 201) sessions.push((await r.json()).sessionToken);
  });
  await operator.goto(`${url}operator`);

  step("the operator page asks for the operator token and refuses a wrong one");
  await operator.getByRole("button", { name: "Sign in" }).click();
  await operator.getByRole("alert").filter({ hasText: "Enter the operator token." }).waitFor();
  await operator.getByLabel("Operator token").fill("not-the-token");
  await operator.getByRole("button", { name: "Sign in" }).click();
  await operator.getByRole("alert").filter({ hasText: "the token is not valid" }).waitFor();

  step("operator signs in and sets 10 cups");
  const signIn = async () => {
    await operator.getByLabel("Operator token").fill(operatorToken);
    await operator.getByRole("button", { name: "Sign in" }).click();
    await operator.getByRole("button", { name: "Sign out" }).waitFor();
  };
  await signIn();
  assert.equal(await operator.getByLabel("Operator token").inputValue(), "", "the token left the field");
  await operator.getByLabel("Stock item to set").fill("cup");
  await operator.getByLabel("Level to set").fill("10");
  await operator.getByRole("button", { name: "Set stock level" }).click();
  await operator.locator('#stock tr[data-stock="cup"] td:nth-child(2)').filter({ hasText: /^10$/ }).waitFor();

  // A portrait kiosk touch screen, with a clock the test can move.
  const kiosk = await browser.newContext({ viewport: { width: 1080, height: 1600 }, hasTouch: true });
  await kiosk.clock.install();
  const page = await kiosk.newPage();
  // The customer's own phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  // The link in the QR code the kiosk shows, read from its pixels as a phone's camera would.
  const scanQr = async () => {
    await page.locator("#qr[src]").waitFor();
    const png = PNG.sync.read(await page.locator("#qr").screenshot());
    const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    assert.ok(code, "the QR code reads");
    return code.data;
  };
  // What the kiosk holds once the customer's order screen is gone: no order, receipt, code or
  // customer data in the page or the browser, only the kiosk's own token.
  const kioskKeepsNothing = async (why, receipt, orderId) => {
    await page.getByText("Your order shows here").waitFor();
    const held = await page.evaluate(() => ({
      storage: Object.keys(localStorage), session: sessionStorage.length, cookies: document.cookie,
      html: document.documentElement.outerHTML, cards: document.querySelectorAll(".card").length,
      fields: [document.getElementById("customer").value, document.getElementById("phone").value, document.getElementById("code").value],
      qr: document.getElementById("qr").getAttribute("src"), current: typeof current === "undefined" ? null : current,
    }));
    assert.deepEqual([held.storage, held.session, held.cookies, held.cards, held.fields, held.qr, held.current],
      [["cafe.kiosk"], 0, "", 0, ["", "", ""], null, null], why);
    for (const secret of [receipt, orderId, "+821055550101"]) assert.ok(!held.html.includes(secret), `${why}: ${secret} is in the page`);
  };
  const external = [], orderKeys = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(new URL(url).origin)) external.push(r.url());
    if (r.method() === "POST" && r.url().endsWith("/orders")) orderKeys.push(r.headers()["idempotency-key"]);
  });
  step("an unregistered screen cannot order; the operator's kiosk link registers it and leaves the address bar");
  await page.goto(url);
  await page.getByText("This screen is not a registered kiosk").waitFor();
  assert.ok(await page.getByRole("button", { name: "Pay and order", exact: true }).isDisabled(), "Order is off");
  await page.goto(`${url}#kiosk=${kioskToken}`);
  await page.getByRole("button", { name: "Americano" }).waitFor();
  assert.ok(!page.url().includes("kiosk="), `the kiosk token left the address bar: ${page.url()}`);
  assert.ok(await page.getByText("This screen is not a registered kiosk").isHidden());
  assert.equal(await page.getByRole("tab").count(), 0, "the kiosk has no operator tab");

  step("customer 1 orders 11 americanos: cancelled, with the reason and the notification, and a QR code");
  const placedOrders = [];
  page.on("response", async (r) => {
    if (r.request().method() === "POST" && r.url().endsWith("/orders") && r.status() === 201) placedOrders.push(await r.json());
  });
  await page.getByLabel("Customer id").fill("1");
  await page.getByRole("button", { name: "Americano" }).tap();
  await page.getByLabel("Quantity").fill("11");
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  const card1 = page.locator(".card").first();
  await card1.locator(".status", { hasText: "cancelled" }).waitFor(SAGA);
  await card1.getByText("not enough cups for 11 beverages", { exact: true }).waitFor();
  await card1.locator(".note", { hasText: "Sorry, your order of 11 americanos was cancelled" }).waitFor(SAGA);
  assert.equal(await page.locator(".card").count(), 1);
  await page.screenshot({ path: join(shots, "customer-1-cancelled.png"), fullPage: true });

  step("customer 1's phone scans the code and follows the order there; the kiosk forgets it on Done");
  const first = placedOrders.at(-1);
  assert.ok(first.receiptToken.startsWith("r2.v4.public."), "a kiosk order comes with its receipt");
  const link1 = await scanQr();
  assert.equal(link1, `${url}receipt#r=${first.receiptToken}`);
  const receiptPage = await phone.newPage();
  await receiptPage.goto(link1);
  await receiptPage.locator(".status", { hasText: "cancelled" }).waitFor(SAGA);
  await receiptPage.getByText("not enough cups for 11 beverages", { exact: true }).waitFor();
  await receiptPage.locator(".note", { hasText: "Sorry, your order of 11 americanos was cancelled" }).waitFor(SAGA);
  await page.getByRole("button", { name: "Done" }).tap();
  await kioskKeepsNothing("after Done", first.receiptToken, first.orderId);

  step("a quantity out of range is refused with a clear message");
  await page.getByLabel("Customer id").fill("1");
  await page.getByRole("button", { name: "Americano" }).tap();
  await page.getByLabel("Quantity").fill("0");
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await page.getByRole("alert").filter({ hasText: "beverageQty must be from 1 to 50, not 0" }).waitFor();

  step("customer 2 orders 1 iced tea and pays: completed and charged, the timeline follows the saga without a reload");
  await page.getByLabel("Customer id").fill("2");
  await page.getByRole("button", { name: "Iced tea" }).tap();
  await page.getByLabel("Quantity").fill("1");
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await page.waitForFunction(() => document.getElementById("error").textContent === "");
  const card2 = page.locator(".card").first();
  await card2.getByText("1 × iced-tea").waitFor();
  await card2.locator(".status", { hasText: "completed" }).waitFor(SAGA);
  await card2.locator(".note", { hasText: "Your 1 iced-tea is ready. Enjoy!" }).waitFor(SAGA);
  // The outcome and the notification reach the read model in either order: both, then the list.
  await card2.locator("li", { hasText: "Customer notified" }).waitFor(SAGA);
  await card2.locator("li", { hasText: "Order completed" }).waitFor(SAGA);
  // Paid with the kiosk's test card: held when placed, charged when the machine started it.
  await card2.locator("li", { hasText: "2,500 KRW charged" }).waitFor(SAGA);
  const steps = await card2.locator("li").allTextContents();
  assert.deepEqual(steps.map((s) => s.split(" — ")[1].split(":")[0]),
    ["Ordered 1 iced-tea", "2,500 KRW held on the card", "1 cup reserved", "The machine is ready for it", "Being made",
      "2,500 KRW charged", "1 iced-tea made", "Order completed", "Customer notified"]);
  await page.screenshot({ path: join(shots, "customer-2-completed.png"), fullPage: true });
  const second = placedOrders.at(-1);
  const link2 = await scanQr();

  step("a minute without a touch closes customer 2's order screen: the kiosk keeps nothing of it");
  await kiosk.clock.fastForward("01:01");
  await kioskKeepsNothing("after a minute idle", second.receiptToken, second.orderId);

  step("on customer 2's phone the receipt page shows the completed order and fits the screen");
  const small = await phone.newPage();
  await small.goto(link2);
  await small.locator(".status", { hasText: "completed" }).waitFor(SAGA);
  await small.locator(".note", { hasText: "Your 1 iced-tea is ready. Enjoy!" }).waitFor(SAGA);
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await small.screenshot({ path: join(shots, "phone.png"), fullPage: true });
  const other = await phone.newPage();
  // The second receipt edited to name the first order, its signature kept.
  const message = Buffer.from(second.receiptToken.slice("r2.v4.public.".length), "base64url");
  const claims = message.subarray(0, -64).toString();
  assert.ok(claims.includes(`"sub":"${second.orderId}"`), claims);
  const edited = Buffer.from(claims.replace(`"sub":"${second.orderId}"`, `"sub":"${first.orderId}"`));
  const forged = `r2.v4.public.${Buffer.concat([edited, message.subarray(-64)]).toString("base64url")}`;
  await other.goto(`${url}receipt#r=${forged}`);
  await other.getByText("the token is not valid").waitFor();

  step("the operator sees 9 cups and both orders");
  await operator.locator('#stock tr[data-stock="cup"] td:nth-child(2)').filter({ hasText: /^9$/ }).waitFor(SAGA);
  await operator.locator("#recent .status.completed").first().waitFor();
  await operator.locator("#recent .status.cancelled").first().waitFor();
  await operator.screenshot({ path: join(shots, "operator.png"), fullPage: true });

  // What a shared screen holds once the operator is gone: no credential, no order, no stock.
  const nothingLeft = async (why) => {
    await operator.getByRole("button", { name: "Sign in" }).waitFor();
    await operator.getByRole("alert").filter({ hasText: why }).waitFor();
    const held = await operator.evaluate(() => ({
      storage: localStorage.length + sessionStorage.length, cookies: document.cookie,
      html: document.documentElement.outerHTML, rows: document.querySelectorAll("tbody tr").length,
      field: document.getElementById("op-token").value, session: typeof session === "undefined" ? null : session,
    }));
    assert.deepEqual([held.storage, held.cookies, held.rows, held.field, held.session], [0, "", 0, "", null], why);
    for (const secret of [operatorToken, ...sessions]) assert.ok(!held.html.includes(secret), `${why}: a token is in the page`);
    assert.ok(!held.html.includes("americano") && !held.html.includes("iced-tea"), `${why}: orders are in the page`);
  };
  step("sign-out leaves nothing of the session or the orders in the page or the browser");
  await operator.getByRole("button", { name: "Sign out" }).click();
  await nothingLeft("Signed out.");
  await operator.screenshot({ path: join(shots, "operator-signed-out.png"), fullPage: true });

  step("after 5 minutes without use the operator page signs itself out");
  await signIn();
  await operator.locator("#recent tr").first().waitFor(SAGA);
  await office.clock.fastForward("05:01");
  await nothingLeft("Signed out after 5 minutes without use.");
  assert.equal(sessions.length, 2, "one session per sign-in");

  step("the API unreachable: the page says so; the retried tap sends the same Idempotency-Key and orders once");
  const before = placedOrders.length;
  await page.getByLabel("Customer id").fill("2");
  await page.getByRole("button", { name: "Iced tea" }).tap();
  await page.route("**/orders", (route) => route.abort("connectionrefused"));
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await page.getByRole("alert").filter({ hasText: "The cafe cannot be reached" }).waitFor();
  assert.deepEqual(external, [], "the page fetches nothing from other hosts");
  await page.unroute("**/orders");
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await page.locator(".card").waitFor(SAGA);
  // The answer is recorded once its body is read, which can come after the card shows.
  for (const end = Date.now() + SAGA.timeout; placedOrders.length === before && Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(placedOrders.length, before + 1, "one order placed");
  const [lost, retried] = orderKeys.slice(-2);
  assert.ok(/^[0-9a-f]{32}$/.test(retried), `an Idempotency-Key on every order: ${orderKeys}`);
  assert.equal(lost, retried, "the retry reuses the key of the tap that failed");
  assert.equal(new Set(orderKeys).size, orderKeys.length - 1, "a new key for each other order");

  step("customer 5 asks to be texted: the kiosk texts a code first; with it the order is theirs and texted; Done forgets it");
  await page.getByRole("button", { name: "Done" }).tap();
  const phoneNumber = "+821055550101";
  const textsTo = async () => (await (await fetch(smsLog)).json()).sms_messages?.[phoneNumber] ?? [];
  await page.getByRole("button", { name: "Caffè latte" }).tap();
  await page.getByLabel("Phone").fill(phoneNumber);
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await page.getByLabel("Code we texted you").waitFor();
  assert.equal(placedOrders.length, before + 1, "no order before the code");
  const [codeText] = await textsTo();
  const code = codeText.Message.match(/^(\d{6}) is your cafe sign-in code/)[1];
  await page.getByLabel("Code we texted you").fill(code === "000000" ? "000001" : "000000");
  await page.getByRole("button", { name: "Confirm and order" }).tap();
  await page.getByRole("alert").filter({ hasText: "that is not the code texted; 4 tries left" }).waitFor();
  await page.getByLabel("Code we texted you").fill(code);
  await page.getByRole("button", { name: "Confirm and order" }).tap();
  const card5 = page.locator(".card").first();
  await card5.locator(".status", { hasText: "completed" }).waitFor(SAGA);
  await page.getByText("We will text your phone when it is ready.").waitFor();
  assert.ok(await page.locator("#qr").isHidden(), "no QR code: their phone is texted");
  const fifth = placedOrders.at(-1);
  assert.ok(fifth.customerId.startsWith("cust-") && fifth.phoneNumber === phoneNumber, JSON.stringify(fifth));
  for (let i = 0; (await textsTo()).length < 2; i++) {
    assert.ok(i < 120, "the order's text arrives");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.match((await textsTo())[1].Message, /^Order #\d+: your 1 latte is ready/);
  await page.screenshot({ path: join(shots, "customer-5-texted.png"), fullPage: true });
  await page.getByRole("button", { name: "Done" }).tap();
  await kioskKeepsNothing("after a signed-in order's Done", code, fifth.orderId);

  step("a beverage no longer on the menu (a stale screen) is refused with a clear message");
  await page.unroute("**/orders");
  await page.route("**/menu", async (route) => {
    const menu = await (await route.fetch()).json();
    await route.fulfill({ json: [...menu, { beverageName: "mocha", displayName: "Mocha", stockName: "cup", price: 4000, currency: "KRW", onSale: true }] });
  });
  await page.reload();
  await page.getByLabel("Customer id").fill("3");
  await page.getByRole("button", { name: "Mocha" }).tap();
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await page.getByRole("alert").filter({ hasText: '"mocha" is not on the menu' }).waitFor();

  // Orders that stay pending while the machine's step is down, for the customer to call off.
  const orderOne = async (customerId) => {
    await page.getByLabel("Customer id").fill(customerId);
    await page.getByRole("button", { name: "Americano" }).tap();
    await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
    const card = page.locator(".card").first();
    await card.locator("li", { hasText: "1 cup reserved" }).waitFor(SAGA);
    assert.equal(await card.locator(".status").textContent(), "pending");
    return card;
  };
  const cancelledAtRequest = async (where) => {
    await where.locator(".status", { hasText: "cancelled" }).waitFor(SAGA);
    await where.getByText("cancelled at your request", { exact: true }).waitFor();
    await where.locator(".note", { hasText: "Sorry, your order of 1 americano was cancelled: cancelled at your request." }).waitFor(SAGA);
    assert.equal(await where.getByRole("button", { name: "Cancel order" }).count(), 0, "no Cancel on a cancelled order");
  };
  await page.unroute("**/menu");
  await page.reload();
  await cloud("beverage step off");

  step("the machine's step is down: customer 6 cancels a pending order on the kiosk, and the cup comes back");
  const card6 = await orderOne("6");
  await card6.getByRole("button", { name: "Cancel order" }).tap();
  await cancelledAtRequest(card6);
  await card6.locator("li", { hasText: "1 cup back in stock" }).waitFor(SAGA);
  await page.screenshot({ path: join(shots, "customer-6-cancelled.png"), fullPage: true });
  await page.getByRole("button", { name: "Done" }).tap();

  step("customer 7 cancels from the receipt page on their phone; the kiosk shows it too");
  const card7 = await orderOne("7");
  const receipt7 = await phone.newPage();
  await receipt7.goto(await scanQr());
  await receipt7.getByRole("button", { name: "Cancel order" }).tap();
  await cancelledAtRequest(receipt7);
  await receipt7.screenshot({ path: join(shots, "customer-7-receipt-cancelled.png"), fullPage: true });
  await cancelledAtRequest(card7);
  await page.getByRole("button", { name: "Done" }).tap();

  step("customer 8 taps Cancel just after the machine started it, before the screen caught up: refused, and the order completes");
  const card8 = await orderOne("8");
  const eighth = placedOrders.at(-1);
  // The screen falls behind: its live connection drops and it stops reading (its clock stands
  // still) while the machine comes back and starts the order.
  await kiosk.clock.pauseAt((await page.evaluate(() => Date.now())) + 100);
  await page.evaluate(() => { live.onclose = null; live.close(); live = null; });
  await cloud("beverage step on");
  for (let i = 0; ; i++) {
    const seen = await (await fetch(`${url}orders/${eighth.orderId}`, { headers: { authorization: `Bearer ${operatorToken}` } })).json();
    if (seen.orderStatus !== "pending") break;
    assert.ok(i < 120, "the machine starts the order");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await card8.getByRole("button", { name: "Cancel order" }).tap();
  await page.getByRole("alert").filter({ hasText: /^the order is (being made|completed): it can no longer be cancelled$/ }).waitFor();
  await kiosk.clock.resume();
  await card8.locator(".status", { hasText: "completed" }).waitFor(SAGA);
  await card8.locator(".note", { hasText: "Your 1 americano is ready. Enjoy!" }).waitFor(SAGA);
  await page.screenshot({ path: join(shots, "customer-8-too-late.png"), fullPage: true });
  await page.getByRole("button", { name: "Done" }).tap();

  step("a walk-up customer orders with no id: the order shows with its code to follow it");
  await page.getByRole("button", { name: "Iced tea" }).tap();
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  const walkUp = page.locator(".card").first();
  await walkUp.locator(".status", { hasText: /completed|cancelled/ }).waitFor(SAGA);
  await page.locator("#qr[src]").waitFor();
  await page.getByRole("button", { name: "Done" }).tap();

  step("a walk-up customer pays with a card that is declined: the order is cancelled with the reason");
  await page.getByRole("button", { name: "Iced tea" }).tap();
  await page.getByLabel("Pay with").selectOption("pm_card_chargeCustomerFail");
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  const declined = page.locator(".card").first();
  await declined.locator(".status", { hasText: "cancelled" }).waitFor(SAGA);
  await declined.getByText("the payment was declined (Your card was declined)", { exact: true }).waitFor(SAGA);
  await page.getByRole("button", { name: "Done" }).tap();
  await page.getByLabel("Pay with").selectOption("pm_card_visa");

  step("a walk-up customer fills a cart, takes a line out and pays for the rest as one order: completed, the total charged once");
  await page.getByRole("button", { name: "Caffè latte" }).tap();
  await page.getByLabel("Quantity").fill("2");
  await page.getByRole("button", { name: "Add to cart" }).tap();
  for (const name of ["Iced tea", "Americano"]) {
    await page.getByRole("button", { name }).tap();
    await page.getByRole("button", { name: "Add to cart" }).tap();
  }
  const cart = page.getByRole("list", { name: "Cart" });
  const lines = await cart.locator("li span").allTextContents();
  assert.equal(lines.length, 3, lines.join(" | "));
  for (const [i, line] of [/^2 × Caffè latte — .*7,000/, /^1 × Iced tea — .*2,500/, /^1 × Americano — .*3,000/].entries()) {
    assert.match(lines[i], line);
  }
  await cart.getByRole("button", { name: /^Remove 1 × Iced tea/ }).tap();
  await page.getByText(/^Total: .*10,000/).waitFor();
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  const cartCard = page.locator(".card").first();
  await cartCard.getByText("2 × latte, 1 × americano", { exact: true }).waitFor();
  await cartCard.locator(".total", { hasText: /^Total: .*10,000$/ }).waitFor(SAGA);
  await cartCard.locator(".status", { hasText: "completed" }).waitFor(SAGA);
  await cartCard.locator(".note", { hasText: "Your 2 lattes and 1 americano are ready. Enjoy!" }).waitFor(SAGA);
  await cartCard.locator("li", { hasText: "10,000 KRW charged" }).waitFor(SAGA);
  const cartSteps = (await cartCard.locator("li").allTextContents()).map((s) => s.split(" — ")[1]);
  for (const said of ["Ordered 2 lattes and 1 americano", "10,000 KRW held on the card", "3 cups reserved", "2 lattes and 1 americano made"]) {
    assert.ok(cartSteps.includes(said), `${said}: ${cartSteps.join(" | ")}`);
  }
  const carted = placedOrders.at(-1);
  assert.deepEqual(carted.lines.map((l) => [l.beverageName, l.beverageQty, l.unitPrice]), [["latte", 2, 3500], ["americano", 1, 3000]]);
  assert.equal(await cart.locator("li").count(), 0, "the cart is emptied with the order");
  await page.screenshot({ path: join(shots, "cart-paid.png"), fullPage: true });
  await page.getByRole("button", { name: "Done" }).tap();

  step("a cart left at the kiosk is gone after a minute without a touch: the next customer does not pay for it");
  await page.getByRole("button", { name: "Americano" }).tap();
  await page.getByRole("button", { name: "Add to cart" }).tap();
  await page.getByRole("button", { name: "Caffè latte" }).tap();
  assert.equal(await cart.locator("li").count(), 1);
  await kiosk.clock.fastForward("01:01");
  assert.equal(await cart.locator("li").count(), 0, "the cart is emptied");
  assert.equal(await page.locator('#menu button[aria-pressed="true"]').count(), 0, "nothing is left picked");

  step("a revoked kiosk can no longer order, and says so");
  const kioskId = kioskToken.split(".")[1];
  const revoked = await fetch(`${url}kiosks/${kioskId}`, { method: "DELETE", headers: { authorization: `Bearer ${operatorToken}` } });
  assert.equal(revoked.status, 200);
  await page.getByLabel("Customer id").fill("4");
  await page.getByRole("button", { name: "Iced tea" }).tap();
  await page.getByRole("button", { name: "Pay and order", exact: true }).tap();
  await page.getByRole("alert").filter({ hasText: "this kiosk is not registered (or was revoked)" }).waitFor();
  step("all checks passed");
} finally {
  operatorOfCloud.close();
  await browser.close();
}
