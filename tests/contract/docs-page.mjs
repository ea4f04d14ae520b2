// The interactive docs in headless Chromium, used as a person would use them: every operation
// is listed, nothing is loaded from elsewhere, and "Try it out" works with the session cookie
// set by registering through the page and with a bearer token pasted into "Authorize".
//
//   PLAYWRIGHT_DIR=<dir with node_modules/playwright-core> node docs-page.mjs http://127.0.0.1:5000 [shot.png]
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.PLAYWRIGHT_DIR ?? process.cwd()}/`);
const { chromium } = require('playwright-core');

const base = process.argv[2];
const screenshot = process.argv[3] ?? 'docs-page.png';
const EXPECTED_OPERATIONS = 22;
const failures = [];
const check = (ok, message) => { if (!ok) failures.push(message); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function openDocs(context) {
  const page = await context.newPage();
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith('data:')) failures.push(`loaded from elsewhere: ${url}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      failures.push(`blocked by the page's policy: ${message.text()}`);
    }
  });
  await page.goto(`${base}/api/docs/`);
  await page.waitForSelector('.opblock', { timeout: 20_000 });
  return page;
}

/** Expands an operation, fills its body if given, runs it and returns the shown status. */
async function tryItOut(page, operationId, tag, body) {
  const block = page.locator(`#operations-${tag}-${operationId}`);
  await block.locator('.opblock-summary').first().click();
  // The page opens operations ready to try; older settings need the button.
  await block.locator('.opblock-body').waitFor();
  if ((await block.locator('button.execute').count()) === 0) await block.locator('.try-out__btn').click();
  if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body));
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor({ timeout: 20_000 });
  const text = (await status.innerText()).trim();
  const responseBody = await block.locator('.live-responses-table tbody .microlight').first().innerText();
  return { status: Number.parseInt(text, 10), body: responseBody };
}

try {
  // Every operation is rendered.
  const context = await browser.newContext();
  const page = await openDocs(context);
  const operations = await page.locator('.opblock').count();
  check(operations === EXPECTED_OPERATIONS, `expected ${EXPECTED_OPERATIONS} operations, saw ${operations}`);
  await page.screenshot({ path: screenshot, fullPage: true });

  // Cookie: register through the page, then call /auth/me with nothing but the browser's cookie.
  const email = `docs-${Date.now()}@example.com`;
  const registered = await tryItOut(page, 'register', 'auth',
    { email, password: 'docs page passphrase', name: 'Docs Page' });
  check(registered.status === 201, `register through the docs answered ${registered.status}`);
  const token = JSON.parse(registered.body).data.session.token;
  const viaCookie = await tryItOut(page, 'me', 'auth');
  check(viaCookie.status === 200, `/auth/me with the cookie answered ${viaCookie.status}`);

  // Bearer: a fresh browser with no cookie, the token pasted into "Authorize".
  const fresh = await browser.newContext();
  const second = await openDocs(fresh);
  const anonymous = await tryItOut(second, 'me', 'auth');
  check(anonymous.status === 401, `/auth/me without credentials answered ${anonymous.status}`);
  await second.locator('.auth-wrapper .authorize').click();
  const bearer = second.locator('.modal-ux .auth-container').filter({ hasText: 'bearer' }).first();
  await bearer.locator('input').first().fill(token);
  await bearer.locator('button.authorize').click();
  await second.locator('.modal-ux .btn-done').first().click();
  await second.locator('#operations-auth-me .btn-clear').click().catch(() => {});
  await second.locator('#operations-auth-me button.execute').click();
  const status = second.locator('#operations-auth-me .live-responses-table tbody .response-col_status').first();
  await second.waitForFunction(
    () => document.querySelector('#operations-auth-me .live-responses-table tbody .response-col_status')?.innerText.trim() !== '401',
    null, { timeout: 20_000 },
  ).catch(() => {});
  const viaBearer = Number.parseInt((await status.innerText()).trim(), 10);
  check(viaBearer === 200, `/auth/me with a pasted bearer token answered ${viaBearer}`);
} catch (error) {
  failures.push(`the docs page could not be used: ${error.message}`);
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`docs page: ${EXPECTED_OPERATIONS} operations rendered; cookie and bearer sign-in work (${screenshot})`);
