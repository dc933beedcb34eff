// The merchant console in a real browser: the demo owner signs in, every
// console page passes axe; changing the colour and logo changes the live
// preview, the customer portal and the emails customers get; editing a
// policy changes the simulated timeline. The branding is put back after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, SHOTS, launch, watchProblems, assertAccessible, newestEmail, unfold } from './helpers.mjs';

const OWNER = 'owner@acme.example';
const PASSWORD = 'demo console walkthrough';
const NEW_COLOUR = '#7a1f5c';
const DEMO_COLOUR = '#1f4e8c';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The newest account-link email to `to` since `since` (ms). */
const newestEmailTo = (to, since) => newestEmail(since, (mail) => mail.includes(`To: ${to}`) && /account link/.test(mail));

async function signIn(page) {
  await page.goto(BASE + '/m/acme/sign-in', { waitUntil: 'networkidle' });
  await assertAccessible(page, 'console sign-in');
  await page.getByLabel('Email address').fill(OWNER);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/m\/acme\/dashboard$/), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.getByRole('heading', { name: 'Receivables', exact: true }).waitFor();
}

test('every console page is accessible and the dashboard shows the demo figures', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  await signIn(page);
  await page.waitForLoadState('networkidle');
  assert.match(await page.locator('.figures').innerText(), /Open receivables\s+\$[\d,]+\.\d\d/);
  assert.equal(await page.locator('svg.chart').count(), 3, 'three server-drawn charts');
  await assertAccessible(page, 'dashboard');
  await page.screenshot({ path: `${SHOTS}/console-dashboard.png`, fullPage: true });

  await page.getByRole('link', { name: 'Customers', exact: true }).click();
  await page.getByRole('heading', { name: 'Customers' }).waitFor();
  await assertAccessible(page, 'customers');
  await page.getByLabel('Name or email').fill('dana');
  await Promise.all([page.waitForURL(/q=dana/), page.getByRole('button', { name: 'Filter' }).click()]);
  await page.getByRole('link', { name: 'Dana Whitfield' }).click();
  await page.getByRole('heading', { name: 'Dana Whitfield' }).waitFor();
  await assertAccessible(page, 'customer detail');
  await page.screenshot({ path: `${SHOTS}/console-customer.png`, fullPage: true });
  await page.getByRole('link', { name: /^INV-/ }).first().click();
  await page.getByRole('heading', { name: /^Invoice INV-/ }).waitFor();
  await assertAccessible(page, 'invoice detail');

  for (const [path, heading] of [['/m/acme/policy', 'Dunning policy'], ['/m/acme/branding', 'Branding'],
    ['/m/acme/import', 'Import customers and invoices'], ['/m/acme/staff', 'Team'], ['/m/acme/audit', 'Audit log'],
    ['/m/acme/invoices', 'Invoices'], ['/m/acme/templates', 'Message templates'], ['/m/acme/api-keys', 'API keys and webhooks']]) {
    await page.goto(BASE + path, { waitUntil: 'networkidle' });
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    await assertAccessible(page, heading);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('a new colour and logo show in the preview, the portal and the emails', async () => {
  assert.ok(process.env.E2E_MAILDIR, 'E2E_MAILDIR must name the SMTP sink Maildir');
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  await signIn(page);
  await page.goto(BASE + '/m/acme/branding', { waitUntil: 'networkidle' });
  // The form is an island: the mark goes on once the wasm is running, and
  // the islands hydrate before the page's next task.
  await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 15000 });

  // The live preview follows the colour as it is picked.
  await page.getByLabel('Primary colour (buttons and links)').fill(NEW_COLOUR);
  const previewStyle = await page.getByTestId('portal-preview').getAttribute('style');
  assert.ok(previewStyle.includes(`--brand-primary:${NEW_COLOUR}`), previewStyle);
  await Promise.all([page.waitForURL(/\/branding$/), page.getByRole('button', { name: 'Save branding' }).click()]);
  await page.getByText('Saved. The portal and new emails use it now.').waitFor();

  // A logo: a real PNG, made by photographing part of the page.
  const logo = await page.screenshot({ clip: { x: 0, y: 0, width: 240, height: 80 } });
  await page.getByLabel('Logo file').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: logo });
  await Promise.all([page.waitForURL(/\/branding$/), page.getByRole('button', { name: 'Upload logo' }).click()]);
  await page.getByText('Uploaded a new logo (240×80 PNG).').waitFor();
  const emailPreview = await page.locator('iframe.email-preview').getAttribute('srcdoc');
  assert.ok(emailPreview.includes(NEW_COLOUR) && emailPreview.includes('/logos/logo_'), 'the sample reminder is rebranded');
  await assertAccessible(page, 'branding after changes');
  await page.screenshot({ path: `${SHOTS}/console-branding.png`, fullPage: true });

  // The portal, as a customer sees it.
  const portal = await context.newPage();
  await portal.goto(BASE + '/p/acme', { waitUntil: 'networkidle' });
  const primary = await portal.locator('.portal').evaluate((el) => getComputedStyle(el).getPropertyValue('--brand-primary').trim());
  assert.equal(primary, NEW_COLOUR);
  const src = await portal.locator('img.portal__logo').getAttribute('src');
  assert.match(src, /^\/logos\/logo_[0-9a-z]+\.png$/);
  const loaded = await portal.locator('img.portal__logo').evaluate((img) => img.complete && img.naturalWidth === 240);
  assert.ok(loaded, 'the logo loads in the portal');

  // An email a customer gets now: through the SMTP server, rebranded.
  await page.goto(BASE + '/m/acme/customers?q=dana', { waitUntil: 'networkidle' });
  await page.getByRole('link', { name: 'Dana Whitfield' }).click();
  const since = Date.now() - 1000;
  await page.getByRole('button', { name: 'Email a new account link' }).click();
  await page.getByText(/Emailed a new account link|A link already went/).waitFor();
  const mail = unfold(await newestEmailTo('dana.whitfield@example.com', since));
  assert.ok(mail.includes(NEW_COLOUR), 'the email uses the new colour');
  assert.ok(mail.includes(src), 'the email shows the new logo');

  // Put the demo's branding back for the other tests.
  await page.goto(BASE + '/m/acme/branding', { waitUntil: 'networkidle' });
  await page.getByLabel('Primary colour (buttons and links)').fill(DEMO_COLOUR);
  await Promise.all([page.waitForURL(/\/branding$/), page.getByRole('button', { name: 'Save branding' }).click()]);
  await page.getByText('Saved. The portal and new emails use it now.').waitFor();
  await Promise.all([page.waitForURL(/\/branding$/), page.getByRole('button', { name: 'Remove the logo' }).click()]);
  await page.getByText('Removed the logo; your name shows instead.').waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('editing a policy changes the simulated timeline', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  await signIn(page);
  await page.goto(BASE + '/m/acme/policy', { waitUntil: 'networkidle' });
  await Promise.all([
    page.waitForURL(/\/policy/),
    page.getByRole('button', { name: 'Preview the next 30 days' }).click(),
  ]);
  const before = await page.locator('pre.timeline-preview').innerText();
  assert.match(before, /Simulation of the draft policy/);
  await assertAccessible(page, 'policy with preview');
  await page.screenshot({ path: `${SHOTS}/console-policy.png`, fullPage: true });

  // Drop the two courtesy reminders and preview again (nothing is saved).
  await page.getByLabel('Remove step 1').check();
  await page.getByLabel('Remove step 2').check();
  await Promise.all([
    page.waitForURL(/\/policy/),
    page.getByRole('button', { name: 'Preview the next 30 days' }).click(),
  ]);
  const after = await page.locator('pre.timeline-preview').innerText();
  assert.notEqual(after, before);
  const count = (t, key) => (t.match(new RegExp(` ${key}: `, 'g')) ?? []).length;
  assert.ok(count(before, 'courtesy') + count(before, 'due_tomorrow') > 0, before);
  assert.equal(count(after, 'courtesy') + count(after, 'due_tomorrow'), 0, after);
  assert.deepEqual(problems, []);
  await context.close();
});
