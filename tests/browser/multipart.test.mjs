// A real browser against `examples/multipart.rs`: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core, run with `node --test`.
//
// The test starts the example binary as a child process, opens its form,
// fills the text fields, sets a real file on the file input (a binary file
// with CRLFs and bytes that look like Chromium's boundaries), submits, and
// checks the summary page and the lines the server printed for each part.
// Only the child it started is ever killed.
//
// Environment:
//   MULTIPART_EXAMPLE  the example binary (default: $CARGO_TARGET_DIR or
//                      target/, then debug/examples/multipart; built with
//                      `cargo build --example multipart` when missing)
//   CHROMIUM           the browser (default /usr/bin/chromium)
//   SCREENSHOT_DIR     where the screenshot goes (default: the temp dir)

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, HOST, Server, accepts, exampleBinary, waitForPorts } from "./support.mjs";

const PORT = 5050;

/** 200 KB: every byte value, CRLFs, and runs that look like delimiters. */
function fileBytes() {
  const parts = [];
  let size = 0;
  for (let i = 0; size < 200_000; i++) {
    const fake = Buffer.from(`\r\n------WebKitFormBoundary${i}\r\n--\r\n\r\n`);
    const all = Buffer.alloc(256, 0);
    for (let b = 0; b < 256; b++) all[b] = (b + i) & 0xff;
    parts.push(fake, all);
    size += fake.length + all.length;
  }
  return Buffer.concat(parts).subarray(0, 200_000);
}

test("multipart example in headless Chromium", { timeout: 120_000 }, async (t) => {
  const bin = exampleBinary("multipart", "MULTIPART_EXAMPLE");
  assert.equal(await accepts(PORT), false, `port ${PORT} is already taken by another process`);

  const server = new Server(bin);
  const killOnExit = () => server.kill();
  process.on("exit", killOnExit);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-multipart-"));
  const userDataDir = path.join(dir, "chromium");
  const file = path.join(dir, "holiday photo.bin");
  const bytes = fileBytes();
  fs.writeFileSync(file, bytes);
  let context;
  try {
    await waitForPorts(server, [PORT], 30_000);

    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    context.setDefaultTimeout(15_000);
    const [page] = context.pages().length ? context.pages() : [await context.newPage()];
    await page.goto(`http://${HOST}:${PORT}/`);
    await page.locator('input[name="title"]').fill("summer");
    await page.locator('textarea[name="comment"]').fill("two\nlines");
    await page.locator('input[type="file"]').setInputFiles(file);
    await Promise.all([page.waitForURL(`http://${HOST}:${PORT}/`), page.getByRole("button", { name: "upload" }).click()]);
    await page.locator("#parts").waitFor();

    const rows = await page.locator("#parts tr").evaluateAll((trs) =>
      trs.slice(1).map((tr) => Array.from(tr.cells, (td) => td.textContent)),
    );
    // The browser normalises the textarea's line break to CRLF.
    assert.deepEqual(rows, [
      ["title", "", "6"],
      ["comment", "", "10"],
      ["upload", "holiday photo.bin", String(bytes.length)],
    ]);
    await server.line(/^upload complete: 3 parts$/, 10_000);
    assert.ok(server.lines.includes(`part "upload" file "holiday photo.bin": ${bytes.length} bytes`), server.log());

    const shot = path.join(process.env.SCREENSHOT_DIR ?? os.tmpdir(), "guildenstern-multipart.png");
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    for (const l of server.lines) t.diagnostic(`server: ${l}`);
  } finally {
    if (context) await context.close().catch(() => {});
    server.kill();
    await server.exitWithin(10_000).catch(() => {});
    process.off("exit", killOnExit);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
