// Paying through Stripe in a real browser: the demo merchant on the Stripe
// gateway, Stripe being the project's localstripe harness and the page
// loading localstripe's fake Stripe.js (card fields and a 3-D Secure
// dialog). Card numbers go from the browser to "Stripe", never to Settle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { SHOTS, launch, watchProblems, assertAccessible, cents, signIn } from './helpers.mjs';

const LINK = process.env.E2E_STRIPE_LINK; // Priya: two overdue invoices, no card
const DECLINE_LINK = process.env.E2E_STRIPE_DECLINE_LINK; // Jamal: one open invoice

let browser;
before(async () => {
  assert.ok(LINK && DECLINE_LINK, 'E2E_STRIPE_LINK and E2E_STRIPE_DECLINE_LINK must be set');
  mkdirSync(SHOTS, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** Types a card into Stripe's (fake) card fields and saves it. */
async function addStripeCard(page, number, { authenticate = false } = {}) {
  await page.getByRole('heading', { name: 'Add a card' }).waitFor();
  const field = (name) => page.locator(`#card-element input[placeholder="${name}"]`);
  await field('number').waitFor();
  await field('number').fill(number);
  await field('exp_month').fill('12');
  await field('exp_year').fill('31');
  await field('cvc').fill('123');
  await field('postal_code').fill('94110');
  await page.getByRole('button', { name: 'Save card' }).click();
  if (authenticate) await page.getByRole('button', { name: 'Complete authentication' }).click();
  await page.waitForURL(/card_added=1/);
}

test('Stripe: add a card with Stripe.js (3-D Secure), pay all, authenticate, see the receipt', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems = watchProblems(page);
  const typed = [];
  page.on('request', (r) => { if (r.url().includes('/p/acme/')) typed.push(r.postData() ?? ''); });
  await signIn(page, LINK);
  assert.equal(await page.getByText('Test mode').count(), 0, 'no test-mode badge with a real gateway');
  const balance = cents(await page.getByTestId('balance-total').textContent());
  await Promise.all([page.waitForURL(/\/pay$/), page.getByTestId('pay-all').click()]);
  await page.getByText('You have no card that can pay this').waitFor();
  await page.getByRole('link', { name: 'Add a card' }).click();
  await assertAccessible(page, 'Stripe card page', ['#card-element']);
  await addStripeCard(page, '4000002500003155', { authenticate: true });
  await page.screenshot({ path: `${SHOTS}/stripe-review.png`, fullPage: true });
  assert.equal(cents(await page.getByTestId('pay-total').textContent()), balance);
  await page.getByTestId('pay-button').click();
  // The bank's check, in Stripe's dialog, on our authenticate page.
  await page.getByRole('button', { name: 'Complete authentication' }).click();
  await page.waitForURL(/paid=1/);
  await page.getByTestId('paid-notice').waitFor();
  assert.equal(cents(await page.getByTestId('receipt-amount').textContent()), balance);
  assert.ok(!typed.some((body) => body.includes('4000002500003155')), 'the card number never reached Settle');
  assert.deepEqual(problems.filter((p) => !p.includes('favicon')), [], 'no console errors or failed requests');
  await context.close();
});

test('Stripe: a declined card is explained, another card pays', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, DECLINE_LINK);
  await Promise.all([page.waitForURL(/\/pay$/), page.getByTestId('pay-all').click()]);
  const total = cents(await page.getByTestId('pay-total').textContent());
  await page.getByRole('link', { name: 'Add a card' }).click();
  await addStripeCard(page, '4000000000000341');
  await Promise.all([page.waitForURL(/declined=pay_/), page.getByTestId('pay-button').click()]);
  assert.match(await page.getByTestId('declined').textContent(), /didn't go through/);
  await assertAccessible(page, 'Stripe decline');
  await page.getByRole('link', { name: 'Use a new card' }).click();
  await addStripeCard(page, '4242424242424242');
  await Promise.all([page.waitForURL(/paid=1/), page.getByTestId('pay-button').click()]);
  assert.equal(cents(await page.getByTestId('receipt-amount').textContent()), total);
  await context.close();
});
