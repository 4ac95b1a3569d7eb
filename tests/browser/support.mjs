// What the real-browser tests share: where the example binaries are, the
// browser's flags, a child process whose output lines are kept and awaited,
// and waiting for its ports. Every wait has a deadline; there are no fixed
// sleeps, and only the child a test started is ever killed.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const HOST = "127.0.0.1";
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The example's binary: `$envVar` if set, else $CARGO_TARGET_DIR or target/,
 * then debug/examples/NAME, built with `cargo build --example NAME` when missing.
 */
export function exampleBinary(name, envVar) {
  if (process.env[envVar]) return process.env[envVar];
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(ROOT, "target");
  const bin = path.join(target, "debug", "examples", name);
  if (!fs.existsSync(bin)) {
    const built = spawnSync("cargo", ["build", "--example", name], {
      cwd: ROOT,
      stdio: "inherit",
      timeout: 15 * 60 * 1000,
    });
    assert.equal(built.status, 0, `cargo build --example ${name} failed`);
  }
  return bin;
}

/** Resolves true when something accepts a TCP connection on the port. */
export function accepts(port) {
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
export class Server {
  constructor(bin, args = []) {
    this.lines = [];
    this.stderr = "";
    this.exit = null; // { code, signal } once exited
    this.waiters = new Set();
    this.child = spawn(bin, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
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

/** Polls until every port accepts, the child dies, or the deadline passes. */
export async function waitForPorts(server, ports, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (server.exit) throw new Error(`server exited before listening\n${server.log()}`);
    let all = true;
    for (const port of ports) all = all && (await accepts(port));
    if (all) return;
    if (Date.now() > deadline) throw new Error(`ports ${ports.join("/")} not open after ${ms} ms\n${server.log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
