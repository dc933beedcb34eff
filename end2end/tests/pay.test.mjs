// Paying in a real browser against the demo (sandbox gateway, test mode):
// a customer whose card expired adds a new one on the sandbox's card page
// and pays everything; another pays part of what's open with a card that is
// declined, sees why, and recovers with another card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { SHOTS, launch, watchProblems, assertAccessible, cents, signIn, addSandboxCard } from './helpers.mjs';

const EXPIRED_CARD_LINK = process.env.E2E_PAY_LINK; // Marcus: autopay, expired card
const DECLINE_LINK = process.env.E2E_DECLINE_LINK; // Hannah: a saved card, two open invoices

let browser;
before(async () => {
  assert.ok(EXPIRED_CARD_LINK && DECLINE_LINK, 'E2E_PAY_LINK and E2E_DECLINE_LINK must be set');
  mkdirSync(SHOTS, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('expired card: add a new card, pay all open invoices, see the receipt', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await signIn(page, EXPIRED_CARD_LINK);
  const balance = cents(await page.getByTestId('balance-total').textContent());

  await Promise.all([page.waitForURL(/\/pay$/), page.getByTestId('pay-all').click()]);
  await page.getByRole('heading', { name: 'Pay your invoices' }).waitFor();
  assert.equal(cents(await page.getByTestId('pay-total').textContent()), balance, 'pay all = the whole balance');
  assert.ok(await page.getByText('Expired', { exact: true }).first().isVisible(), 'the expired card is marked');
  assert.equal(await page.getByTestId('pay-button').count(), 0, 'an expired card cannot pay');
  await assertAccessible(page, 'review page with an expired card');

  await page.getByRole('link', { name: 'Add a card' }).click();
  await page.getByRole('heading', { name: 'Add a card' }).waitFor();
  await assertAccessible(page, 'sandbox card page');
  await page.screenshot({ path: `${SHOTS}/add-card.png`, fullPage: true });
  await addSandboxCard(page, '4242 4242 4242 4242');
  await page.getByText('Your new card is saved and selected.').waitFor();
  assert.ok(await page.getByLabel(/Visa ending 4242/).isChecked(), 'the new card is chosen');
  await page.screenshot({ path: `${SHOTS}/pay-review.png`, fullPage: true });

  await Promise.all([page.waitForURL(/\/payments\/pay_.*paid=1/), page.getByTestId('pay-button').click()]);
  await page.getByTestId('paid-notice').waitFor();
  assert.equal(cents(await page.getByTestId('receipt-amount').textContent()), balance);
  await assertAccessible(page, 'receipt');
  await page.screenshot({ path: `${SHOTS}/receipt.png`, fullPage: true });

  await page.goto(page.url().replace(/\/payments\/.*$/, '/account'), { waitUntil: 'networkidle' });
  assert.equal(await page.getByTestId('balance-total').textContent(), 'Nothing due');
  assert.deepEqual(problems, [], 'no console errors or failed requests');
  await context.close();
});

test('a declined card is explained and another card pays; a partial selection is honoured', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, DECLINE_LINK);
  // Pay only the newest invoice: untick the oldest.
  const boxes = page.locator('table.invoice-table tbody input[type=checkbox]');
  assert.ok((await boxes.count()) >= 2);
  const due = (await page.locator('table.invoice-table tbody td.num').allTextContents()).map(cents);
  await boxes.first().uncheck();
  await Promise.all([page.waitForURL(/\/pay\?/), page.getByTestId('review-payment').click()]);
  const total = cents(await page.getByTestId('pay-total').textContent());
  assert.equal(total, due.slice(1).reduce((a, b) => a + b, 0), 'only the ticked invoices');

  await page.getByRole('link', { name: 'Use a new card' }).click();
  await addSandboxCard(page, '4000 0000 0000 9995');
  await Promise.all([page.waitForURL(/declined=pay_/), page.getByTestId('pay-button').click()]);
  const declined = await page.getByTestId('declined').textContent();
  assert.match(declined, /insufficient funds/);
  await assertAccessible(page, 'declined payment');
  await page.screenshot({ path: `${SHOTS}/declined.png`, fullPage: true });

  await page.getByRole('link', { name: 'Use a new card' }).click();
  await addSandboxCard(page, '5555 5555 5555 4444');
  assert.equal(cents(await page.getByTestId('pay-total').textContent()), total, 'same selection after the decline');
  await Promise.all([page.waitForURL(/paid=1/), page.getByTestId('pay-button').click()]);
  assert.equal(cents(await page.getByTestId('receipt-amount').textContent()), total);
  await context.close();
});
