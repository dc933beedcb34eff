// Accessibility across the whole product: every page the router declares
// (read from app/src/app.rs, so a new page can't be left out) passes axe as
// the person who would see it; the whole pay-all flow done by keyboard
// alone, focus visible at every stop; and once more with JavaScript off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BASE, SHOTS, launch, watchProblems, assertAccessible, signIn, newestEmail, unfold, addSandboxCard } from './helpers.mjs';

// Full URLs of access links (scripts/e2e.sh makes them with `settle link`).
const TOUR_LINK = process.env.E2E_TOUR_LINK; // Emily: open invoices and a card
const KEYBOARD_LINK = process.env.E2E_KEYBOARD_LINK; // Wei: open invoices
const NOJS_LINK = process.env.E2E_NOJS_LINK; // Sofia: open invoices
const OWNER = 'owner@acme.example';
const PASSWORD = 'demo console walkthrough';
const THREE_DS_CARD = '4000 0025 0000 3155';

/** The page routes as declared: `/p/:slug/invoices/:id`, … */
const DECLARED = [...readFileSync('../app/src/app.rs', 'utf8').matchAll(/path=path!\("([^"]*)"\)/g)].map((m) => m[1]);

let browser;
before(async () => {
  assert.ok(TOUR_LINK && KEYBOARD_LINK && NOJS_LINK, 'E2E_TOUR_LINK, E2E_KEYBOARD_LINK and E2E_NOJS_LINK must be set');
  assert.ok(DECLARED.length >= 30, `routes read from app.rs: ${DECLARED.length}`);
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** Which declared route a URL path is. */
function routeOf(path) {
  const segs = path.split('?')[0].split('/');
  const fits = DECLARED.filter((r) => {
    const rs = r.split('/');
    return rs.length === segs.length && rs.every((s, i) => s.startsWith(':') || s === segs[i]);
  });
  // A literal segment beats a parameter: /p/acme/account/settings is not /p/:slug/payments/:id.
  fits.sort((a, b) => b.split('/').filter((s) => !s.startsWith(':')).length - a.split('/').filter((s) => !s.startsWith(':')).length);
  return fits[0];
}

const checked = new Set();
/** axe on the page the browser is on, counted against its declared route
 *  (and against `requested`'s, for a route that redirects to where it's checked). */
async function check(page, label, requested) {
  await page.waitForLoadState('networkidle');
  await assertAccessible(page, `${label} (${new URL(page.url()).pathname})`);
  for (const path of [new URL(page.url()).pathname, requested]) {
    const route = path && routeOf(path);
    if (route) checked.add(route);
  }
}

test('every page of the portal and the console passes axe', async () => {
  const anon = await browser.newContext();
  const page = await anon.newPage();
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await check(page, 'site home');
  await page.goto(BASE + '/setup');
  await check(page, 'first-run setup');
  await page.goto(BASE + '/p/acme');
  await check(page, 'portal home');
  const res = await page.goto(BASE + '/p/acme/no-such-page');
  assert.equal(res.status(), 404);
  await check(page, 'not found');
  // Sign-in by email: the form, the code page, and the emailed link.
  await page.goto(BASE + '/p/acme/sign-in');
  await check(page, 'sign-in');
  const since = Date.now() - 1000;
  await page.getByLabel('Email address', { exact: true }).first().fill('emily.tran@example.com');
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  await check(page, 'code entry');
  const mail = unfold(await newestEmail(since, (m) => m.includes('To: emily.tran@example.com') && /^Subject: \d{6} /m.test(m)));
  const signInLink = /\/p\/acme\/s\/[A-Za-z0-9_-]{22}/.exec(mail)?.[0];
  assert.ok(signInLink, 'a sign-in link in the email');
  await page.goto(BASE + signInLink);
  await check(page, 'sign-in link');
  await anon.close();

  // The customer's pages, including paying with a card that asks for 3-D Secure.
  const customer = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const cpage = await customer.newPage();
  const problems = watchProblems(cpage);
  await cpage.goto(TOUR_LINK, { waitUntil: 'networkidle' });
  await check(cpage, 'access link');
  await signIn(cpage, TOUR_LINK);
  await check(cpage, 'account');
  await cpage.locator('table.invoice-table tbody th a').first().click();
  await cpage.getByRole('heading', { name: /^Invoice / }).waitFor();
  await check(cpage, 'invoice');
  for (const path of ['/p/acme/account/settings', '/p/acme/account/verify', '/p/acme/account/cards/new']) {
    await cpage.goto(BASE + path);
    await check(cpage, path);
  }
  await cpage.goto(BASE + '/p/acme/account', { waitUntil: 'networkidle' });
  await Promise.all([cpage.waitForURL(/\/pay$/), cpage.getByTestId('pay-all').click()]);
  await check(cpage, 'review');
  await cpage.getByRole('link', { name: /^(Add a card|Use a new card)$/ }).click();
  await cpage.getByRole('heading', { name: 'Add a card' }).waitFor();
  await addSandboxCard(cpage, THREE_DS_CARD);
  await Promise.all([cpage.waitForURL(/\/authenticate/), cpage.getByTestId('pay-button').click()]);
  await check(cpage, '3-D Secure');
  await Promise.all([cpage.waitForURL(/\/payments\/pay_/), cpage.getByTestId('approve-3ds').click()]);
  await cpage.getByTestId('paid-notice').waitFor();
  await check(cpage, 'receipt');
  await cpage.goto(BASE + '/p/acme/payments');
  await check(cpage, 'payment history');
  assert.deepEqual(problems, [], 'no console errors or failed requests');
  await customer.close();

  // The console, and an invitation to it.
  const staff = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const spage = await staff.newPage();
  await spage.goto(BASE + '/m/acme');
  await check(spage, 'console home (signed out)', '/m/acme');
  await spage.getByLabel('Email address').fill(OWNER);
  await spage.getByLabel('Password').fill(PASSWORD);
  await Promise.all([spage.waitForURL(/\/m\/acme\/dashboard$/), spage.getByRole('button', { name: 'Sign in' }).click()]);
  await spage.goto(BASE + '/m/acme');
  await check(spage, 'console home', '/m/acme');
  for (const p of ['dashboard', 'customers', 'invoices', 'branding', 'policy', 'templates', 'import', 'staff', 'api-keys', 'audit']) {
    await spage.goto(`${BASE}/m/acme/${p}`);
    await check(spage, p);
  }
  await spage.goto(BASE + '/m/acme/customers');
  await spage.locator('table tbody a[href*="/customers/"]').first().click();
  await spage.waitForURL(/\/customers\/cus_/);
  await check(spage, 'customer detail');
  await spage.goto(BASE + '/m/acme/invoices');
  await spage.locator('table tbody a[href*="/invoices/"]').first().click();
  await spage.waitForURL(/\/invoices\/inv_/);
  await check(spage, 'invoice detail');
  const invited = Date.now() - 1000;
  const sent = await spage.request.post(BASE + '/m/acme/staff/invite', { form: { email: 'a11y@acme.example', role: 'viewer' }, maxRedirects: 0 });
  assert.equal(sent.status(), 303);
  const invite = /\/m\/acme\/invite\/[A-Za-z0-9_-]{22}/.exec(unfold(await newestEmail(invited, (m) => m.includes('To: a11y@acme.example'))))?.[0];
  assert.ok(invite, 'an invitation link in the email');
  await staff.close();
  const guest = await browser.newContext();
  const gpage = await guest.newPage();
  await gpage.goto(BASE + invite);
  await check(gpage, 'invitation');
  await guest.close();

  const missed = DECLARED.filter((r) => !checked.has(r));
  assert.deepEqual(missed, [], 'every declared page was checked');
});

/** Presses Tab until the focused element satisfies `want`; the focus ring
 *  must be visible there. */
async function tabTo(page, want, label, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate(() => {
      const e = document.activeElement;
      const cs = getComputedStyle(e);
      return {
        tag: e.tagName, id: e.id, testid: e.dataset?.testid ?? '', type: e.type ?? '',
        text: (e.innerText || e.value || '').trim(), label: e.labels?.[0]?.innerText?.trim() ?? '',
        ring: cs.outlineStyle !== 'none' && cs.outlineWidth !== '0px' || cs.boxShadow !== 'none',
      };
    });
    if (want(el)) {
      assert.ok(el.ring, `${label}: the focus is visible`);
      return el;
    }
  }
  assert.fail(`${label}: not reached with ${max} presses of Tab`);
}

test('the whole pay-all flow by keyboard alone', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(KEYBOARD_LINK, { waitUntil: 'networkidle' });
  await tabTo(page, (e) => e.id === 'continue', 'Continue');
  await Promise.all([page.waitForURL(/\/account$/), page.keyboard.press('Enter')]);
  await page.getByRole('heading', { name: 'Balance due' }).waitFor();
  await page.waitForLoadState('networkidle');
  await tabTo(page, (e) => e.testid === 'pay-all', 'Pay all');
  await Promise.all([page.waitForURL(/\/pay$/), page.keyboard.press('Enter')]);
  await page.getByRole('heading', { name: 'Pay your invoices' }).waitFor();
  await page.waitForLoadState('networkidle');
  await tabTo(page, (e) => e.tag === 'A' && e.text === 'Add a card', 'Add a card');
  await Promise.all([page.waitForURL(/\/cards\/new/), page.keyboard.press('Enter')]);
  await page.getByRole('heading', { name: 'Add a card' }).waitFor();
  await page.waitForLoadState('networkidle');
  await tabTo(page, (e) => e.label === 'Card number', 'card number');
  await page.keyboard.type('4242 4242 4242 4242');
  await tabTo(page, (e) => e.label.startsWith('Expiry'), 'expiry');
  await page.keyboard.type('12 / 34');
  await tabTo(page, (e) => e.label === 'Security code', 'security code');
  await page.keyboard.type('123');
  await tabTo(page, (e) => e.text === 'Save card', 'Save card');
  await Promise.all([page.waitForURL(/card_added=1/), page.keyboard.press('Enter')]);
  await page.getByText('Your new card is saved and selected.').waitFor();
  await page.waitForLoadState('networkidle');
  await tabTo(page, (e) => e.testid === 'pay-button', 'Pay');
  await Promise.all([page.waitForURL(/\/payments\/pay_.*paid=1/), page.keyboard.press('Enter')]);
  await page.getByTestId('paid-notice').waitFor();
  await page.screenshot({ path: `${SHOTS}/keyboard-receipt.png`, fullPage: true });
  await page.goto(BASE + '/p/acme/account', { waitUntil: 'networkidle' });
  assert.equal(await page.getByTestId('balance-total').textContent(), 'Nothing due');
  assert.deepEqual(problems, [], 'no console errors or failed requests');
  await context.close();
});

test('the whole pay-all flow with JavaScript disabled', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(NOJS_LINK);
  await Promise.all([page.waitForURL(/\/account$/), page.getByRole('button', { name: 'Continue to your account' }).click()]);
  await Promise.all([page.waitForURL(/\/pay$/), page.getByTestId('pay-all').click()]);
  await page.getByRole('link', { name: 'Add a card' }).click();
  await page.getByRole('heading', { name: 'Add a card' }).waitFor();
  await addSandboxCard(page, '4242 4242 4242 4242');
  await Promise.all([page.waitForURL(/\/payments\/pay_.*paid=1/), page.getByTestId('pay-button').click()]);
  await page.getByTestId('paid-notice').waitFor();
  await page.goto(BASE + '/p/acme/account');
  assert.equal(await page.getByTestId('balance-total').textContent(), 'Nothing due');
  await context.close();
});
