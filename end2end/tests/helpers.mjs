// Shared browser plumbing: Debian's Chromium through playwright-core, and
// axe-core injected from node_modules (nothing is downloaded).
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const BASE = process.env.E2E_BASE ?? 'http://127.0.0.1:3000';
export const LINK = process.env.E2E_LINK; // path of a demo access link
export const SHOTS = process.env.E2E_SHOTS ?? '../target/e2e-screenshots';

export async function launch(options = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    ...options,
  });
}

/** Collects console errors and failed requests so a test can assert none happened. */
export function watchProblems(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror on ${page.url()}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error on ${page.url()}: ${m.text().slice(0, 300)}`); });
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  return problems;
}

/** Runs axe-core on the current page; fails on serious or critical violations. */
export async function assertAccessible(page, label, exclude = []) {
  // Evaluated through the DevTools protocol: the page's CSP (rightly)
  // refuses an injected <script>, and the policy stays on for the test.
  await page.evaluate(AXE_SOURCE);
  // `exclude`: third-party content we don't render (Stripe's card fields).
  const result = await page.evaluate(async (exclude) => await window.axe.run(
    exclude.length ? { exclude: exclude.map((s) => [s]) } : document,
    { resultTypes: ['violations'] },
  ), exclude);
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const summary = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(summary, [], `${label}: accessibility violations`);
}

/** "$1,234.56" -> 123456 (minor units; the demo is in USD). */
export function cents(text) {
  const m = text.replace(/[^0-9.\-]/g, '');
  const [whole, frac = ''] = m.split('.');
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2));
}

/** Follows an access link and presses Continue; waits for the account page. */
export async function signIn(page, link) {
  await page.goto(link, { waitUntil: 'networkidle' });
  await Promise.all([page.waitForURL(/\/account$/), page.getByRole('button', { name: 'Continue to your account' }).click()]);
  await page.getByRole('heading', { name: 'Balance due' }).waitFor();
}

/** The newest email caught by the SMTP sink since `since` (ms) for which
 *  `match(mail)` holds, waiting up to 20 s (reminders arrive too). */
export async function newestEmail(since, match) {
  const dir = join(process.env.E2E_MAILDIR, 'new');
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    let files = [];
    try { files = readdirSync(dir).map((f) => join(dir, f)); } catch { /* not created yet */ }
    const fresh = files.map((f) => [statSync(f).mtimeMs, f]).filter(([t]) => t >= since).sort((a, b) => b[0] - a[0])
      .map(([, f]) => readFileSync(f, 'utf8')).filter(match);
    if (fresh.length) return fresh[0];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the expected email did not arrive');
}

/** Quoted-printable soft breaks and escapes undone, enough to search an email. */
export function unfold(mail) {
  return mail.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/** Fills the sandbox's card page (test mode) and saves the card. */
export async function addSandboxCard(page, number) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry (MM / YY)').fill('12 / 34');
  await page.getByLabel('Security code').fill('123');
  await Promise.all([page.waitForURL(/card_added=1/), page.getByRole('button', { name: 'Save card' }).click()]);
}
