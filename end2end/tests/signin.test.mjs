// Signing in without a link, in a real browser: an emailed code (read from
// the SMTP server's Maildir), setting a password, signing out and back in
// with it, then promising to pay an overdue invoice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, SHOTS, launch, watchProblems, assertAccessible, newestEmail } from './helpers.mjs';

const EMAIL = 'dana.whitfield@example.com';
const PASSWORD = 'violet tractor harbour';

let browser;
before(async () => {
  assert.ok(process.env.E2E_MAILDIR, 'E2E_MAILDIR must name the SMTP sink Maildir');
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** The newest sign-in code email since `since` (ms). */
const newestEmailAfter = (since) => newestEmail(since, (mail) => /^Subject: \d{6} /m.test(mail));

test('sign in by emailed code, set a password, sign back in with it, promise to pay', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);

  await page.goto(BASE + '/p/acme', { waitUntil: 'networkidle' });
  await page.getByRole('link', { name: 'Sign in with your email' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await assertAccessible(page, 'sign-in page');
  const since = Date.now() - 1000;
  await page.getByLabel('Email address', { exact: true }).first().fill(EMAIL);
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  await assertAccessible(page, 'code page');

  const mail = await newestEmailAfter(since);
  const code = /^Subject: (\d{6}) /m.exec(mail)?.[1];
  assert.ok(code, 'the code is in the subject');
  await page.getByLabel('6-digit code').fill(code);
  await Promise.all([page.waitForURL(/\/p\/acme\/account$/), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.getByRole('heading', { name: 'Balance due' }).waitFor();

  // A fresh code sign-in may set a first password.
  await page.locator('#new-password').fill(PASSWORD);
  await page.locator('#confirm-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('Your password is saved.').waitFor();

  await Promise.all([page.waitForURL(/\/p\/acme$/), page.getByRole('button', { name: 'Sign out' }).click()]);
  await page.goto(BASE + '/p/acme/sign-in', { waitUntil: 'networkidle' });
  await page.getByText('Sign in with a password instead').click();
  await page.locator('#pw-email').fill(EMAIL);
  await page.locator('#pw-password').fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/p\/acme\/account$/), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  await page.getByRole('heading', { name: 'Balance due' }).waitFor();

  // Promise to pay the oldest overdue invoice in a week.
  await page.locator('table.invoice-table tbody th a').first().click();
  await page.getByRole('heading', { name: "Can't pay right now?" }).waitFor();
  const min = await page.getByLabel("I'll pay by").getAttribute('min');
  const d = new Date(min + 'T12:00:00Z');
  d.setUTCDate(d.getUTCDate() + 6);
  await page.getByLabel("I'll pay by").fill(d.toISOString().slice(0, 10));
  await page.getByRole('button', { name: 'Promise to pay' }).click();
  await page.getByTestId('promise').waitFor();
  assert.match(await page.getByTestId('promise').textContent(), /You promised to pay by/);
  await assertAccessible(page, 'invoice page with a promise');
  await page.screenshot({ path: `${SHOTS}/promise.png`, fullPage: true });
  assert.deepEqual(problems, [], 'no console errors or failed requests');
  await context.close();
});
