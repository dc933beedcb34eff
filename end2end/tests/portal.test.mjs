// The walking skeleton in a real browser: open a demo access link, press
// Continue, see the invoices and the right total, prove the page hydrated,
// check accessibility, and save a screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { BASE, LINK, SHOTS, launch, watchProblems, assertAccessible, cents } from './helpers.mjs';

let browser;
before(async () => {
  assert.ok(LINK, 'E2E_LINK must name a demo access link path');
  mkdirSync(SHOTS, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('access link -> Continue -> open invoices with the right total, hydrated', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems = watchProblems(page);

  const res = await page.goto(BASE + LINK, { waitUntil: 'networkidle' });
  assert.equal(res.status(), 200);
  await page.getByRole('heading', { name: /Hi Dana/ }).waitFor();
  assert.ok(await page.getByText('Test mode').isVisible(), 'sandbox merchant shows the test-mode badge');
  await assertAccessible(page, 'continue page');
  await page.screenshot({ path: `${SHOTS}/continue.png` });

  await Promise.all([page.waitForURL(/\/p\/acme\/account$/), page.getByRole('button', { name: 'Continue to your account' }).click()]);
  await page.waitForLoadState('networkidle');
  await page.getByRole('heading', { name: 'Balance due' }).waitFor();

  const rows = page.locator('table.invoice-table tbody tr');
  const count = await rows.count();
  assert.ok(count >= 3, `several open invoices, got ${count}`);
  const dueCells = await page.locator('table.invoice-table tbody td.num').allTextContents();
  const sum = dueCells.map(cents).reduce((a, b) => a + b, 0);
  const total = cents(await page.getByTestId('balance-total').textContent());
  assert.equal(total, sum, 'balance equals the sum of the amounts due');
  assert.ok(total > 0);
  const statuses = await page.locator('table.invoice-table tbody .status').allTextContents();
  assert.ok(statuses.filter((s) => /overdue/.test(s)).length >= 2, `overdue invoices shown: ${statuses}`);

  // Hydration: the sort links are an island that reorders the table's rows
  // in the page. A marker on window survives only if the click did not
  // reload the document; until the island has hydrated, a click is a plain
  // page load (the server sorts), so retry until it sticks.
  const firstNumberBy = async () => (await rows.first().locator('th').textContent()).trim();
  const byDue = await firstNumberBy();
  let hydrated = false;
  const deadline = Date.now() + 20000;
  while (!hydrated && Date.now() < deadline) {
    await page.evaluate(() => { window.__settleMarker = 'same-document'; });
    await page.getByRole('link', { name: 'Amount due' }).click();
    await page.waitForURL(/sort=amount/);
    await page.waitForFunction(() => document.querySelector('a[aria-current="true"]')?.textContent === 'Amount due');
    hydrated = await page.evaluate(() => window.__settleMarker === 'same-document');
    if (!hydrated) {
      await page.goto(BASE + '/p/acme/account', { waitUntil: 'networkidle' });
      await page.waitForTimeout(250);
    }
  }
  assert.ok(hydrated, `sorting happened in the page (hydrated), not by a reload; browser problems: ${problems.join(' | ')}`);
  const amounts = (await page.locator('table.invoice-table tbody td.num').allTextContents()).map(cents);
  assert.deepEqual(amounts, [...amounts].sort((a, b) => b - a), 'sorted largest first');
  // An unticked invoice stays unticked when the rows are reordered.
  const unticked = (await rows.first().locator('th').textContent()).trim();
  await rows.first().getByRole('checkbox').uncheck();
  await page.getByRole('link', { name: 'Due date' }).click();
  await page.waitForFunction(() => document.querySelector('a[aria-current="true"]')?.textContent === 'Due date');
  assert.equal(await firstNumberBy(), byDue, 'back to oldest due first');
  const row = page.locator(`table.invoice-table tbody tr[data-invoice="${unticked}"]`);
  assert.equal(await row.getByRole('checkbox').isChecked(), false, `${unticked} is still unticked after sorting`);
  assert.equal(await page.locator('table.invoice-table tbody input[type=checkbox]:checked').count(), count - 1);
  await row.getByRole('checkbox').check();
  assert.equal(await page.evaluate(() => window.__settleMarker), 'same-document');

  await assertAccessible(page, 'account page');
  await page.screenshot({ path: `${SHOTS}/account.png`, fullPage: true });
  assert.deepEqual(problems, [], 'no console errors or failed requests');

  // Invoice detail: line items and totals, and a print layout.
  await page.locator('table.invoice-table tbody th a').first().click();
  await page.getByRole('heading', { name: /^Invoice INV-/ }).waitFor();
  await page.getByRole('heading', { name: 'Payments applied' }).waitFor();
  await assertAccessible(page, 'invoice page');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.portal__header').isVisible(), false, 'print layout hides the header');
  assert.equal(await page.getByRole('button', { name: 'Print or save as PDF' }).isVisible(), false);
  await page.screenshot({ path: `${SHOTS}/invoice-print.png`, fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  await page.goto(BASE + '/p/acme/payments', { waitUntil: 'networkidle' });
  await page.getByRole('heading', { name: 'Payment history' }).waitFor();
  assert.ok((await page.locator('tr[data-payment]').count()) >= 1, 'payments listed');
  await assertAccessible(page, 'payment history');
  await page.goto(BASE + '/p/acme/account', { waitUntil: 'networkidle' });

  // Sign out ends the session: the account page sends us to the portal home.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/p\/acme$/);
  await page.goto(BASE + '/p/acme/account');
  assert.match(page.url(), /\/p\/acme$/);
  await context.close();
});

test('keyboard alone reaches and presses Continue, with a visible focus ring', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(BASE + LINK, { waitUntil: 'networkidle' });
  let focused = '';
  for (let i = 0; i < 10 && focused !== 'continue'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.id ?? '');
  }
  assert.equal(focused, 'continue', 'the Continue button is reachable by Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await Promise.all([page.waitForURL(/\/account$/), page.keyboard.press('Enter')]);
  await page.getByRole('heading', { name: 'Balance due' }).waitFor();
  await context.close();
});

test('works with JavaScript disabled', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(BASE + LINK);
  await Promise.all([page.waitForURL(/\/account$/), page.getByRole('button', { name: 'Continue to your account' }).click()]);
  const total = await page.getByTestId('balance-total').textContent();
  assert.match(total, /^\$[\d,]+\.\d\d$/);
  await page.getByRole('link', { name: 'Amount due' }).click();
  await page.waitForURL(/sort=amount/);
  const amounts = (await page.locator('table.invoice-table tbody td.num').allTextContents()).map(cents);
  assert.deepEqual(amounts, [...amounts].sort((a, b) => b - a), 'server-side sort without JS');
  await context.close();
});

test('an expired or garbled link explains itself', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto(BASE + LINK.slice(0, -4));
  assert.equal(res.status(), 400);
  await page.getByRole('heading', { name: 'This link looks incomplete' }).waitFor();
  await assertAccessible(page, 'link problem page');
  await context.close();
});
