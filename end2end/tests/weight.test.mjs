// The client's weight, printed as `# figure` lines for the README: the wasm
// the signed-in account page fetches, gzipped, and all of the app's wasm; the
// page's HTML with 50 open invoices; and its largest contentful paint in
// Chromium on localhost; measured on the release bundle (scripts/e2e.sh
// builds it and imports the 50 invoices).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BASE, launch, signIn } from './helpers.mjs';

const RELEASE = process.env.E2E_WASM_PROFILE === 'release';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The LCP of the page as loaded, in ms (waits for the entry to settle). */
async function largestContentfulPaint(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    new PerformanceObserver((list) => {
      const entries = list.getEntries();
      resolve(entries[entries.length - 1].startTime);
    }).observe({ type: 'largest-contentful-paint', buffered: true });
    setTimeout(() => reject(new Error('no largest-contentful-paint entry')), 5000);
  }));
}

test('client weight: wasm gzipped, account page HTML, largest contentful paint', async () => {
  // Islands mode: pages are server HTML, and the wasm holds only the islands
  // (interactive parts). All of the bundle's wasm, and then what the account
  // page actually fetches.
  const pkg = '../target/site/pkg';
  const wasmFiles = readdirSync(pkg).filter((f) => f.endsWith('.wasm'));
  const allWasm = wasmFiles.map((f) => readFileSync(join(pkg, f)));
  const allGz = allWasm.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
  const js = Buffer.concat(readdirSync(pkg).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(pkg, f))));
  const css = readFileSync(join(pkg, 'settle.css'));

  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await signIn(page, process.env.E2E_WEIGHT_LINK);
  const account = new URL(page.url()).pathname;
  const rows = await page.locator('table.invoice-table tbody tr').count();
  assert.equal(rows, 50, 'the weighed customer has 50 open invoices');

  // A fresh load of the account page, as a returning customer opens it, in a
  // new page so nothing is cached in memory; the wasm it fetches is weighed.
  const fetched = new Map();
  const fresh = await context.newPage();
  const weigh = (r) => {
    if (new URL(r.url()).pathname.endsWith('.wasm')) fetched.set(r.url(), r.body());
  };
  fresh.on('response', weigh);
  const res = await fresh.goto(BASE + account, { waitUntil: 'load' });
  const html = (await res.body()).length;
  await fresh.locator('body[data-hydrated="true"]').waitFor({ timeout: 15000 });
  fresh.off('response', weigh);
  const pageWasm = await Promise.all(fetched.values());
  const pageGz = pageWasm.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
  const lcps = [];
  for (let i = 0; i < 5; i++) {
    await fresh.goto(BASE + account, { waitUntil: 'load' });
    lcps.push(await largestContentfulPaint(fresh));
  }
  lcps.sort((a, b) => a - b);
  const lcp = lcps[2];
  await context.close();

  const kb = (n) => (n / 1024).toFixed(1);
  const build = RELEASE ? 'release' : 'debug';
  console.log(`# figure wasm fetched by the account page: ${pageWasm.length} modules, gzipped ${kb(pageGz)} KB (${build} build)`);
  console.log(`# figure wasm, every page: ${wasmFiles.length} modules, ${kb(allWasm.reduce((n, b) => n + b.length, 0))} KB, gzipped ${kb(allGz)} KB`);
  console.log(`# figure js glue gzipped ${kb(gzipSync(js).length)} KB, css gzipped ${kb(gzipSync(css).length)} KB`);
  console.log(`# figure account page HTML: ${kb(html)} KB with ${rows} open invoices`);
  console.log(`# figure largest contentful paint of the account page: median ${lcp.toFixed(0)} ms of 5 (${lcps.map((v) => v.toFixed(0)).join(', ')})`);

  assert.ok(pageWasm.length >= 1, 'the page fetched its wasm');
  assert.ok(html <= 40 * 1024, `account page HTML ${kb(html)} KB > 40 KB`);
  assert.ok(lcp <= 500, `LCP ${lcp} ms > 500 ms`);
  // The size target holds for the release bundle (a debug one is far larger).
  if (RELEASE) assert.ok(pageGz <= 250 * 1024, `account page wasm ${kb(pageGz)} KB gzipped > 250 KB`);
});
