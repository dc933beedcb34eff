// The client's weight, printed as `# figure` lines for the README: the
// wasm bundle gzipped, the signed-in account page's HTML, and the largest
// contentful paint of that page in Chromium on localhost, measured on the
// release bundle (scripts/e2e.sh builds it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BASE, LINK, launch, signIn } from './helpers.mjs';

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
  const wasm = readFileSync('../target/site/pkg/settle.wasm');
  const wasmGz = gzipSync(wasm, { level: 9 }).length;
  const js = readFileSync('../target/site/pkg/settle.js');
  const css = readFileSync('../target/site/pkg/settle.css');

  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await signIn(page, BASE + LINK);
  const rows = await page.locator('table.invoice-table tbody tr').count();
  // A fresh load of the account page, as a returning customer opens it.
  const res = await page.goto(BASE + '/p/acme/account', { waitUntil: 'load' });
  const html = (await res.body()).length;
  const lcps = [];
  for (let i = 0; i < 5; i++) {
    await page.goto(BASE + '/p/acme/account', { waitUntil: 'load' });
    lcps.push(await largestContentfulPaint(page));
  }
  lcps.sort((a, b) => a - b);
  const lcp = lcps[2];
  await context.close();

  const kb = (n) => (n / 1024).toFixed(1);
  console.log(`# figure wasm: ${kb(wasm.length)} KB, gzipped ${kb(wasmGz)} KB (${RELEASE ? 'release' : 'debug'} build)`);
  console.log(`# figure js glue gzipped ${kb(gzipSync(js).length)} KB, css gzipped ${kb(gzipSync(css).length)} KB`);
  console.log(`# figure account page HTML: ${kb(html)} KB with ${rows} open invoices`);
  console.log(`# figure largest contentful paint of the account page: median ${lcp.toFixed(0)} ms of 5 (${lcps.map((v) => v.toFixed(0)).join(', ')})`);

  assert.ok(html <= 40 * 1024, `account page HTML ${kb(html)} KB > 40 KB`);
  assert.ok(lcp <= 500, `LCP ${lcp} ms > 500 ms`);
  // The bundle is not yet within its 250 KB target (see README, "Performance"):
  // reported, not asserted, until route splitting lands.
  if (RELEASE) console.log(`# figure wasm gzipped target 250 KB: ${wasmGz <= 250 * 1024 ? 'met' : 'NOT met'}`);
});
