// Clicks through the kiosk page in headless Chromium, as a customer and an operator would:
//   node tests/browser/kiosk.mjs <kiosk URL> <screenshot folder>
// Run by tests/tests/kiosk_page.rs against a freshly deployed stack. Exits non-zero on the
// first expectation that fails, saying what the page showed.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [url, shots] = process.argv.slice(2);
// The operator token comes in the environment, never on a command line.
const operatorToken = process.env.CAFE_OPERATOR_TOKEN;
if (!url || !shots) throw new Error("usage: kiosk.mjs <kiosk URL> <screenshot folder>");
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const step = (what) => console.log(`[kiosk] ${what}`);
const SAGA = { timeout: 30_000 };

try {
  // A portrait kiosk touch screen.
  const kiosk = await browser.newContext({ viewport: { width: 1080, height: 1600 }, hasTouch: true });
  const page = await kiosk.newPage();
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(new URL(url).origin)) external.push(r.url()); });
  await page.goto(url);
  await page.getByRole("button", { name: "Americano" }).waitFor();

  step("without the operator token the operator view asks for it");
  await page.getByRole("tab", { name: "Operator" }).tap();
  await page.locator("#op-message").filter({ hasText: "Enter the operator token." }).waitFor();

  step("operator sets 10 cups");
  await page.getByLabel("Operator token").fill(operatorToken);
  await page.getByLabel("Stock item to set").fill("cup");
  await page.getByLabel("Level to set").fill("10");
  await page.getByRole("button", { name: "Set stock level" }).tap();
  await page.locator('#stock tr[data-stock="cup"] td:nth-child(2)').filter({ hasText: /^10$/ }).waitFor();

  step("customer 1 orders 11 americanos: cancelled, with the reason and the notification");
  await page.getByRole("tab", { name: "Order" }).tap();
  await page.getByLabel("Customer id").fill("1");
  await page.getByLabel("Phone").fill("+821012345678");
  await page.getByRole("button", { name: "Americano" }).tap();
  await page.getByLabel("Quantity").fill("11");
  await page.getByRole("button", { name: "Order", exact: true }).tap();
  const card1 = page.locator(".card").first();
  await card1.locator(".status", { hasText: "cancelled" }).waitFor(SAGA);
  await card1.getByText("only 10 cups left, 11 needed", { exact: true }).waitFor();
  await card1.locator(".note", { hasText: "Sorry, your order of 11 americanos was cancelled" }).waitFor(SAGA);
  assert.equal(await page.locator(".card").count(), 1);
  await page.screenshot({ path: join(shots, "customer-1-cancelled.png"), fullPage: true });

  step("a quantity out of range is refused with a clear message");
  await page.getByLabel("Quantity").fill("0");
  await page.getByRole("button", { name: "Order", exact: true }).tap();
  await page.getByRole("alert").filter({ hasText: "beverageQty must be from 1 to 50, not 0" }).waitFor();

  step("customer 2 orders 1 iced tea: completed, the timeline follows the saga without a reload");
  await page.getByLabel("Customer id").fill("2");
  await page.getByLabel("Phone").fill("");
  await page.getByRole("button", { name: "Iced tea" }).tap();
  await page.getByLabel("Quantity").fill("1");
  await page.getByRole("button", { name: "Order", exact: true }).tap();
  await page.waitForFunction(() => document.getElementById("error").textContent === "");
  const card2 = page.locator(".card").first();
  await card2.getByText("1 × iced-tea").waitFor();
  await card2.locator(".status", { hasText: "completed" }).waitFor(SAGA);
  await card2.locator(".note", { hasText: "Your 1 iced-tea is ready. Enjoy!" }).waitFor(SAGA);
  await card2.locator("li", { hasText: "Customer notified" }).waitFor(SAGA);
  const steps = await card2.locator("li").allTextContents();
  assert.deepEqual(steps.map((s) => s.split(" — ")[1].split(":")[0]),
    ["Ordered 1 iced-tea", "1 cup reserved", "1 iced-tea made", "Order completed", "Customer notified"]);
  await page.screenshot({ path: join(shots, "customer-2-completed.png"), fullPage: true });

  step("the operator sees 9 cups and both orders");
  await page.getByRole("tab", { name: "Operator" }).tap();
  await page.locator('#stock tr[data-stock="cup"] td:nth-child(2)').filter({ hasText: /^9$/ }).waitFor();
  await page.locator("#recent .status.completed").first().waitFor();
  await page.locator("#recent .status.cancelled").first().waitFor();
  await page.screenshot({ path: join(shots, "operator.png"), fullPage: true });

  step("the API unreachable: the page says so");
  await page.getByRole("tab", { name: "Order" }).tap();
  await page.route("**/orders", (route) => route.abort("connectionrefused"));
  await page.getByRole("button", { name: "Order", exact: true }).tap();
  await page.getByRole("alert").filter({ hasText: "The cafe cannot be reached" }).waitFor();
  assert.deepEqual(external, [], "the page fetches nothing from other hosts");

  step("a beverage no longer on the menu (a stale screen) is refused with a clear message");
  await page.unroute("**/orders");
  await page.route("**/menu", async (route) => {
    const menu = await (await route.fetch()).json();
    await route.fulfill({ json: [...menu, { beverageName: "mocha", displayName: "Mocha", stockName: "cup" }] });
  });
  await page.reload();
  await page.getByLabel("Customer id").fill("3");
  await page.getByRole("button", { name: "Mocha" }).tap();
  await page.getByRole("button", { name: "Order", exact: true }).tap();
  await page.getByRole("alert").filter({ hasText: '"mocha" is not on the menu' }).waitFor();

  step("another kiosk, without customer 2's token, shows none of their orders");
  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto(url);
  await stranger.getByLabel("Customer id").fill("2");
  await stranger.getByLabel("Customer id").press("Enter");
  await stranger.getByText("Your orders show here once you order on this kiosk.").waitFor();
  assert.equal(await stranger.locator(".card").count(), 0);

  step("on a phone the page fits the screen");
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true,
    storageState: await kiosk.storageState(), // the customer's token, as on the kiosk
  });
  const small = await phone.newPage();
  await small.goto(url);
  await small.getByLabel("Customer id").fill("2");
  await small.locator(".card").first().waitFor(SAGA);
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await small.screenshot({ path: join(shots, "phone.png"), fullPage: true });
  step("all checks passed");
} finally {
  await browser.close();
}
