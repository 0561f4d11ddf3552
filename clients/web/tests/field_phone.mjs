// What every field app test does with a phone: join the project with a code and wait until
// the app can work offline, and press "Send and update" until it settles.

import assert from 'node:assert/strict';

// Enrolls the page's phone at `origin` with `code` and waits for form `formId` to arrive and
// the service worker to hold the whole shell (wasm included).
export async function enroll(page, origin, code, formId) {
  await page.goto(origin);
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
