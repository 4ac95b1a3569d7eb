// A real browser against `examples/websocketdiscussion.rs`: two tabs of
// headless Chromium (driven by playwright-core, run with `node --test`)
// join the discussion as ann and bob; what one tab sends must appear in
// the other, prefixed with the sender's name, and not twice in its own;
// each tab sees the other join and leave. The example runs without bots
// (argument 0) so that only the tabs speak. Only the child this test
// started is ever killed; every wait has a deadline.
//
// Environment:
//   WEBSOCKETDISCUSSION_EXAMPLE  the example binary (default: $CARGO_TARGET_DIR
//                                or target/, then debug/examples/websocketdiscussion)
//   CHROMIUM                     the browser (default /usr/bin/chromium)
//   SCREENSHOT_DIR               where the screenshot goes (default: the temp dir)

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, HOST, Server, accepts, exampleBinary, waitForPorts } from "./support.mjs";

const PAGE_PORT = 5050;
const WS_PORT = 5051;

async function say(page, text) {
  await page.locator("#text").fill(text);
  await page.getByRole("button", { name: "send" }).click();
}

async function lines(page) {
  return page.locator("#messages > li").allTextContents();
}

test("websocketdiscussion example in two tabs of headless Chromium", { timeout: 120_000 }, async (t) => {
  const bin = exampleBinary("websocketdiscussion", "WEBSOCKETDISCUSSION_EXAMPLE");
  for (const port of [PAGE_PORT, WS_PORT]) {
    assert.equal(await accepts(port), false, `port ${port} is already taken by another process`);
  }
  const server = new Server(bin, ["0"]);
  const killOnExit = () => server.kill();
  process.on("exit", killOnExit);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-chromium-"));
  let context;
  try {
    await waitForPorts(server, [PAGE_PORT, WS_PORT], 30_000);
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    context.setDefaultTimeout(15_000);
    const [ann] = context.pages().length ? context.pages() : [await context.newPage()];
    const bob = await context.newPage();
    await ann.goto(`http://${HOST}:${PAGE_PORT}/?name=ann`);
    await ann.locator('#status[data-state="open"]').waitFor();
    await server.line(/^ann joined$/, 10_000);
    await bob.goto(`http://${HOST}:${PAGE_PORT}/?name=bob`);
    await bob.locator('#status[data-state="open"]').waitFor();
    await server.line(/^bob joined$/, 10_000);
    assert.equal(await bob.locator("#me").textContent(), "bob");
    // ann sees bob join.
    await ann.locator("#messages > li.notice", { hasText: "* bob joined" }).waitFor();

    await say(ann, "hello from ann");
    await bob.locator("#messages > li.theirs", { hasText: "ann: hello from ann" }).waitFor();
    await say(bob, "hi ann, bob here");
    await ann.locator("#messages > li.theirs", { hasText: "bob: hi ann, bob here" }).waitFor();
    await server.line(/^bob: hi ann, bob here$/, 10_000);

    // Each tab lists its own message once (shown locally), the other's once.
    const annLines = await lines(ann);
    const bobLines = await lines(bob);
    assert.deepEqual(annLines.filter((l) => l.includes("hello from ann")), ["ann: hello from ann"]);
    assert.deepEqual(annLines.filter((l) => l.includes("bob here")), ["bob: hi ann, bob here"]);
    assert.deepEqual(bobLines.filter((l) => l.includes("hello from ann")), ["ann: hello from ann"]);
    assert.deepEqual(bobLines.filter((l) => l.includes("bob here")), ["bob: hi ann, bob here"]);

    const shot = path.join(process.env.SCREENSHOT_DIR ?? os.tmpdir(), "guildenstern-websocketdiscussion.png");
    await ann.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);

    // bob's tab closes: ann is told.
    await bob.close();
    await server.line(/^bob left$/, 10_000);
    await ann.locator("#messages > li.notice", { hasText: "* bob left" }).waitFor();
  } finally {
    if (context) await context.close().catch(() => {});
    server.kill();
    await server.exitWithin(10_000).catch(() => {});
    process.off("exit", killOnExit);
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
