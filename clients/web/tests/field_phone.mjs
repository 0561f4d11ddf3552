// What every field app test does with a phone: join the project with a code and wait until
// the app can work offline, and press "Send and update" until it settles.

import assert from 'node:assert/strict';

// A phone-sized browser context.
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

// Enrolls the page's phone at `origin` with `code` and waits for form `formId` to arrive and
// the service worker to hold the whole shell (wasm included).
export async function enroll(page, origin, code, formId) {
  // A page already showing the app is not loaded again: a second navigation while the service
  // worker installs can leave the page outside its control.
  if (!page.url().startsWith(origin)) await page.goto(origin);
  await page.fill('#enroll-code', code.toLowerCase().replaceAll('-', ' '));
  await page.click('#enroll-button');
  await page.waitForSelector(`button[data-form="${formId}"]`, { timeout: 30_000 });
  // The service worker must hold the shell before the phone may go offline.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  await page.evaluate(async () => {
    const names = await caches.keys();
    const cache = await caches.open(names.find((n) => n.startsWith('field-shell-')));
    if (!(await cache.match('/pkg/survey_wasm_bg.wasm'))) throw new Error('wasm not cached');
  });
}

export async function sync(page) {
  await page.click('#sync-button');
  await page.waitForFunction(() => {
    const button = document.querySelector('#sync-button');
    return button && !button.disabled;
  }, null, { timeout: 30_000 });
  const error = page.locator('#sync-error');
  if (await error.count()) assert.fail(`sync failed: ${await error.textContent()}`);
}

// A survey page's questions: whether one is shown, which section's page is, and ticking an
// option.
export const visible = (page, question) => page.locator(`[data-question="${question}"]`).isVisible();
export const sectionShown = (page) => page.locator('section.page:visible').getAttribute('data-section');
export const pick = (page, question, value) => page.check(`input[name="q-${question}"][value="${value}"]`);

// What `server` materialized for the responses of `area` in `dataset`: `question=value` rows,
// sorted.
export function answersOf(server, dataset, area) {
  const hex = dataset.replaceAll('-', '');
  return server.sql(`SELECT a.question || '=' || coalesce(a.value, a.num) FROM answers a JOIN responses r ON r.document = a.document
    WHERE r.dataset = X'${hex}' AND r.area = '${area}' ORDER BY 1`).split('\n').filter(Boolean);
}
