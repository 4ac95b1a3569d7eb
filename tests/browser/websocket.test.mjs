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
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const HOST = "127.0.0.1";
const PAGE_PORT = 5050;
const WS_PORT = 5051;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function exampleBinary() {
  if (process.env.WEBSOCKET_EXAMPLE) return process.env.WEBSOCKET_EXAMPLE;
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(ROOT, "target");
  const bin = path.join(target, "debug", "examples", "websocket");
  if (!fs.existsSync(bin)) {
    const built = spawnSync("cargo", ["build", "--example", "websocket"], {
      cwd: ROOT,
      stdio: "inherit",
      timeout: 15 * 60 * 1000,
    });
    assert.equal(built.status, 0, "cargo build --example websocket failed");
  }
  return bin;
}

/** Resolves true when something accepts a TCP connection on the port. */
function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

/** The example as a child process whose output lines are kept and awaited. */
class Server {
  constructor(bin) {
    this.lines = [];
    this.stderr = "";
    this.exit = null; // { code, signal } once exited
    this.waiters = new Set();
    this.child = spawn(bin, [], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
      this.child.once("error", (e) => {
        this.stderr += `spawn failed: ${e.message}\n`;
        this.exit = { code: null, signal: null, error: e };
        this.notify();
        resolve(this.exit);
      });
    });
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.lines.push(line);
      this.notify();
    });
    this.child.stderr.on("data", (d) => (this.stderr += d));
  }

  notify() {
    for (const w of this.waiters) w();
  }

  /** Waits until `pred()` holds (checked after every line and at exit). */
  until(pred, what, ms) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try {
          v = pred();
        } catch (e) {
          finish();
          reject(e);
          return;
        }
        if (v) {
          finish();
          resolve(v);
        } else if (this.exit) {
          finish();
          reject(new Error(`server exited (${JSON.stringify(this.exit)}) before ${what}\n${this.log()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}\n${this.log()}`));
      }, ms);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for a stdout line matching `re`. */
  line(re, ms) {
    return this.until(() => this.lines.find((l) => re.test(l)), `a line matching ${re}`, ms);
  }

  /** Waits for the process to exit, at most `ms`. */
  async exitWithin(ms) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server still running after ${ms} ms\n${this.log()}`)), ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the child this test started, if it still runs. */
  kill() {
    if (!this.exit && this.child.pid !== undefined) this.child.kill("SIGKILL");
  }

  log() {
    return `--- server stdout ---\n${this.lines.join("\n")}\n--- server stderr ---\n${this.stderr}`;
  }
}

/** Polls until both ports accept, the child dies, or the deadline passes. */
async function waitForPorts(server, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (server.exit) throw new Error(`server exited before listening\n${server.log()}`);
    if ((await accepts(PAGE_PORT)) && (await accepts(WS_PORT))) return;
    if (Date.now() > deadline) throw new Error(`ports ${PAGE_PORT}/${WS_PORT} not open after ${ms} ms\n${server.log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectHallos(page) {
  await page.locator("#msg-100").waitFor({ timeout: 20_000 });
  const texts = await page.locator("#messages > li").allTextContents();
  assert.equal(texts.length, 100, "exactly 100 messages listed");
  texts.forEach((t, i) => assert.equal(t, `hallo ${i + 1}`));
  assert.equal(await page.locator("#count").textContent(), "100");
}

test("websocket example in headless Chromium", { timeout: 120_000 }, async (t) => {
  const bin = exampleBinary();
  for (const port of [PAGE_PORT, WS_PORT]) {
    assert.equal(await accepts(port), false, `port ${port} is already taken by another process`);
  }

  const server = new Server(bin);
  const killOnExit = () => server.kill();
  process.on("exit", killOnExit);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-chromium-"));
  let context;
  try {
    await waitForPorts(server, 30_000);

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
