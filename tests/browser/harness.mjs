// What every browser script of tests/browser shares: its arguments, Debian's headless Chromium,
// and asking the Rust test that runs it for what only the cloud's operator can do.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline";

/** `<kiosk URL> <screenshot folder>` from the command line; the folder is made. */
export function scriptArguments(script) {
  const [url, shots] = process.argv.slice(2);
  if (!url || !shots) throw new Error(`usage: ${script} <kiosk URL> <screenshot folder>`);
  mkdirSync(shots, { recursive: true });
  return { url, shots };
}

export const launchBrowser = () => chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/**
 * What only the cloud's operator can do (turn a saga step off and on) the test running the script
 * does: `ask(what)` prints a `[cloud] ...` line and waits for its `done`. `close()` when finished.
 */
export function cloudOperator() {
  const lines = createInterface({ input: process.stdin });
  const replies = lines[Symbol.asyncIterator]();
  const ask = async (what) => {
    console.log(`[cloud] ${what}`);
    assert.equal((await replies.next()).value, "done", what);
  };
  return { ask, close: () => lines.close() };
}

export const SAGA = { timeout: 30_000 };
