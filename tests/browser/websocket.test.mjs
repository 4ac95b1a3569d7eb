// A real browser against `examples/websocket.rs`: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core, run with `node --test`.
//
// The test starts the example binary as a child process, opens its page in
// two tabs, clicks "say hallo" (both tabs must list "hallo 1" … "hallo 100"),
// "close" (the server must print that the socket closed with code 4321),
// reloads, clicks "shutdown" (both tabs must show close code 1001) and waits
// for the process to exit with status 0. Only the child it started is ever
// killed. Every wait has a deadline; there are no fixed sleeps.
//
// Environment:
//   WEBSOCKET_EXAMPLE  the example binary (default: $CARGO_TARGET_DIR or
//                      target/, then debug/examples/websocket; built with
//                      `cargo build --example websocket` when missing)
//   CHROMIUM           the browser (default /usr/bin/chromium)
//   SCREENSHOT_DIR     where the screenshot goes (default: the temp dir)

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, HOST, Server, accepts, exampleBinary, waitForPorts } from "./support.mjs";

const PAGE_PORT = 5050;
const WS_PORT = 5051;

async function expectHallos(page) {
  await page.locator("#msg-100").waitFor({ timeout: 20_000 });
  const texts = await page.locator("#messages > li").allTextContents();
  assert.equal(texts.length, 100, "exactly 100 messages listed");
  texts.forEach((t, i) => assert.equal(t, `hallo ${i + 1}`));
  assert.equal(await page.locator("#count").textContent(), "100");
}

test("websocket example in headless Chromium", { timeout: 120_000 }, async (t) => {
  const bin = exampleBinary("websocket", "WEBSOCKET_EXAMPLE");
  for (const port of [PAGE_PORT, WS_PORT]) {
    assert.equal(await accepts(port), false, `port ${port} is already taken by another process`);
  }

  const server = new Server(bin);
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
    const url = `http://${HOST}:${PAGE_PORT}/`;
    const [first] = context.pages().length ? context.pages() : [await context.newPage()];
    const second = await context.newPage();
    for (const page of [first, second]) {
      await page.goto(url);
      await page.locator('#status[data-state="open"]').waitFor();
    }
    await server.until(() => server.lines.filter((l) => / opened$/.test(l)).length >= 2, "two sockets opened", 10_000);

    // One click, 100 messages multicast to both pages.
    await first.getByRole("button", { name: "say hallo" }).click();
    await expectHallos(first);
    await expectHallos(second);

    const shot = path.join(process.env.SCREENSHOT_DIR ?? os.tmpdir(), "guildenstern-websocket.png");
    await first.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);

    // The page closes with 4321; the server's close callback prints it.
    await first.getByRole("button", { name: "close" }).click();
    await server.line(/closed with code 4321\b/, 10_000);
    await first.locator('#status[data-state="closed"]').waitFor();

    // A new socket after a reload, then shutdown: every page gets 1001.
    await first.reload();
    await first.locator('#status[data-state="open"]').waitFor();
    assert.equal(await first.locator("#messages > li").count(), 0);
    await first.getByRole("button", { name: "shutdown" }).click();
    for (const page of [first, second]) {
      await page.locator('#status[data-code="1001"]').waitFor({ timeout: 20_000 });
      assert.match(await page.locator("#status").textContent(), /closed with code 1001/);
    }
    const closedShot = path.join(path.dirname(shot), "guildenstern-websocket-closed.png");
    await second.screenshot({ path: closedShot, fullPage: true });
    t.diagnostic(`screenshot after shutdown: ${closedShot}`);
    const exit = await server.exitWithin(20_000);
    assert.deepEqual(
      { code: exit.code, signal: exit.signal },
      { code: 0, signal: null },
      `server exit status\n${server.log()}`,
    );
    assert.ok(server.lines.includes("websocket example stopped"), server.log());
    for (const l of server.lines) t.diagnostic(`server: ${l}`);
  } finally {
    if (context) await context.close().catch(() => {});
    server.kill();
    await server.exitWithin(10_000).catch(() => {});
    process.off("exit", killOnExit);
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
