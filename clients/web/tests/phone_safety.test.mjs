// The field app's protections for a phone that may be lost, taken or looked at (issue 20), in
// headless Chromium against the real survey-server binary: delete after send, quick exit, the
// PIN, withdrawal from the phone, and a backup saved before a demo reset. Every check that
// something is gone first shows that the same search finds it while it is there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPolicyViolations } from './chromium.mjs';
import { startSurveyServer } from './survey_server.mjs';
import { PHONE, enroll as enrollAt, sync } from './field_phone.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(process.env.SCREENSHOT_DIR ?? join(here, '../../../target/screenshots'));
const NEUTRAL = 'https://www.google.com/';

const FORM = {
  id: 'street-contact', version: 1, title: 'Street contact',
  areas: ['north', 'south'],
  questions: [
    { id: 'gender', type: 'single', label: 'Gender', options: ['f', 'm', 'x'], required: true },
    { id: 'notes', type: 'text', label: 'Notes', max_len: 200 },
  ],
};

// Long and unlike anything else the app stores, so finding it means the answer is there.
const needle = (tag) => `needle-${tag}-quiet-lane-behind-the-old-cannery-second-gate-7f3a`;

let server;
let browser;
let live;
let liveCode;
const policyViolations = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startSurveyServer(process.env.SURVEY_SERVER_BIN);
  live = (await server.admin('POST', '/v1/datasets', { name: 'Phone safety', mode: 'live', k: 5 })).id;
  await server.admin('POST', `/v1/datasets/${live}/forms`, FORM);
  liveCode = (await server.admin('POST', `/v1/datasets/${live}/enrollments`, { label: 'phones', uses: 10, expires_in_hours: 1 })).code;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function phone(name) {
  const context = await browser.newContext({ ...PHONE, acceptDownloads: true });
  const violations = watchPolicyViolations(context);
  context.on('close', () => policyViolations.push(...violations.map((v) => `[${name}] ${v}`)));
  // The quick exit's neutral page, served here: the test machine has no internet.
  await context.route(`${NEUTRAL}**`, (route) => route.fulfill({ contentType: 'text/html', body: '<title>Google</title><p>Search</p>' }));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`# [${name}] page error: ${error.message}`));
  return { context, page };
}

const enroll = (page, code = liveCode) => enrollAt(page, server.origin, code, FORM.id);

async function fill(page, notes) {
  await page.click(`button[data-form="${FORM.id}"]`);
  await page.check('input[name="area"][value="north"]');
  await page.check('input[name="q-gender"][value="x"]');
  await page.fill('#q-notes', notes);
  // Through the pages to the review page, where Finish is.
  while (!(await page.locator('#finish').isVisible())) await page.click('#next-page');
  await page.click('#finish');
  await page.waitForSelector('#response-list');
}

// Everything the app's origin keeps in the browser, as text to search: IndexedDB values (bytes
// as Latin-1, and engine states also decoded, since Automerge deflates larger columns),
// localStorage and the service worker's caches.
function storageText(page) {
  return page.evaluate(async () => {
    const wasm = await import('/pkg/survey_wasm.js');
    await wasm.default();
    const parts = [];
    const walk = (value) => {
      if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
        const bytes = new Uint8Array(value);
        for (let i = 0; i < bytes.length; i += 0x8000) parts.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
        try {
          const engine = wasm.SurveyClient.load(bytes);
          parts.push(engine.responsesJson(), engine.sitesJson());
        } catch { /* not an engine state */ }
      } else if (value && typeof value === 'object') {
        Object.values(value).forEach(walk);
      } else {
        parts.push(String(value));
      }
    };
    const db = await new Promise((done) => { const open = indexedDB.open('survey-field'); open.onsuccess = () => done(open.result); });
    const values = await new Promise((done) => { const all = db.transaction('kv').objectStore('kv').getAll(); all.onsuccess = () => done(all.result); });
    db.close();
    values.forEach(walk);
    for (let i = 0; i < localStorage.length; i++) parts.push(localStorage.getItem(localStorage.key(i)));
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        if (!request.url.endsWith('.wasm')) parts.push(await (await cache.match(request)).text());
      }
    }
    return parts.join('\n');
  });
}

const hex = (id) => id.replaceAll('-', '');
const storedResponses = (dataset) => server.sql(`SELECT count(*) FROM documents WHERE dataset = X'${hex(dataset)}' AND kind = 'response'`);

test('a live phone deletes a response once the server confirmed it and keeps only a count', async () => {
  const { context, page } = await phone('after-send');
  await enroll(page);
  const text = needle('after-send');
  await fill(page, text);
  assert.ok((await storageText(page)).includes(text), 'the search finds the answer while it is on the phone');

  await sync(page);
  assert.equal(await page.locator('#response-list li').count(), 0, 'nothing listed once sent');
  assert.match(await page.locator('#sent-count').textContent(), /1 sent/);
  assert.equal(storedResponses(live), '1', 'the server has it');
  assert.ok(!(await storageText(page)).includes(text), 'no content of the confirmed response is left in the browser');
  await page.reload();
  await page.waitForSelector('#sent-count');
  assert.match(await page.locator('#sent-count').textContent(), /1 sent/, 'the count survives a restart');
  await page.click('#tab-more');
  assert.equal(await page.locator('#delete-after-send').isChecked(), true, 'on by default in a live dataset');
  await page.screenshot({ path: join(shots, 'safety-01-sent-count.png'), fullPage: true });
  await context.close();
});

test('quick exit leaves nothing of the app on screen or in the back history', async () => {
  // On the joining screen too (a phone of its own: navigating twice before the service worker
  // took over can leave the page uncontrolled).
  const joining = await phone('joining');
  await joining.page.goto(server.origin);
  await joining.page.waitForSelector('#enroll-code');
  assert.equal(await joining.page.locator('#quick-exit').count(), 1, 'quick exit on the joining screen too');
  await joining.context.close();

  const { context, page } = await phone('quick-exit');
  await enroll(page);
  await page.click(`button[data-form="${FORM.id}"]`);
  await page.fill('#q-notes', 'half typed');
  assert.equal(await page.title(), 'Notes', 'the tab title says nothing of the work');

  await page.click('#quick-exit');
  await page.waitForURL(NEUTRAL);
  assert.equal(await page.title(), 'Google');
  const shown = await page.textContent('body');
  assert.ok(!/survey|outreach|half typed|gender/i.test(shown), `the neutral page shows nothing of the app: ${shown}`);
  await page.goBack().catch(() => {});
  assert.ok(!page.url().startsWith(server.origin), `back does not return to the app: ${page.url()}`);
  assert.ok(!/survey|outreach|half typed/i.test(await page.content()), 'nothing of the app after going back');
  const history = await page.evaluate(() => history.length);
  assert.ok(history <= 2, `only the blank start page and the neutral page are in the history (${history})`);
  await context.close();
});

test('with a PIN the storage holds no plain answer, and the work comes back after unlocking', async () => {
  const { context, page } = await phone('pin');
  await enroll(page);
  // Counted here, not just before the final sync: Chromium's offline emulation can let a
  // request through around a reload, and the work may reach the server early. Either way it
  // must reach it exactly once.
  const before = Number(storedResponses(live));
  await context.setOffline(true);
  const text = needle('pin');
  await fill(page, text);
  assert.ok((await storageText(page)).includes(text), 'the search finds the answer before the PIN');

  await page.click('#tab-more');
  await page.waitForSelector('#pin-warning');
  assert.match(await page.locator('#pin-warning').textContent(), /forget the PIN.*lost/);
  await page.fill('#pin-new', '12345');
  await page.fill('#pin-repeat', '12345');
  await page.click('#pin-save');
  assert.match(await page.locator('#pin-message').textContent(), /at least 6/);
  await page.fill('#pin-new', '482916');
  await page.fill('#pin-repeat', '482916');
  await page.click('#pin-save');
  await page.waitForSelector('#pin-message:has-text("encrypted")');
  await page.screenshot({ path: join(shots, 'safety-02-pin-set.png'), fullPage: true });

  const stored = await storageText(page);
  assert.ok(!stored.includes(text), 'no plain answer in the browser once the PIN is set');
  assert.ok(!stored.includes('street-contact'), 'not even the form id');
  const sealed = await page.evaluate(() => new Promise((done) => {
    const open = indexedDB.open('survey-field');
    open.onsuccess = () => {
      const store = open.result.transaction('kv').objectStore('kv');
      const names = store.getAllKeys();
      const values = store.getAll();
      values.onsuccess = () => done(names.result.map((name, i) => [name, name === 'pin' || values.result[i]?.format === 'survey-sealed/1']));
    };
  }));
  assert.ok(sealed.length >= 3, JSON.stringify(sealed));
  assert.ok(sealed.every(([, ok]) => ok), `every value is sealed: ${JSON.stringify(sealed)}`);

  // A restart asks for the PIN before showing anything.
  await page.reload();
  await page.waitForSelector('#lock-screen');
  assert.equal(await page.locator('#response-list').count(), 0);
  assert.equal(await page.locator('#quick-exit').count(), 1, 'quick exit on the lock screen too');
  await page.fill('#unlock-pin', '000000');
  await page.click('#unlock-button');
  await page.waitForSelector('#unlock-error:has-text("not right")');
  await page.fill('#unlock-pin', '482916');
  await page.click('#unlock-button');
  await page.waitForSelector('#response-list');
  await page.locator('button[data-status="submitted"]').click();
  assert.ok((await page.locator('.survey').textContent()).includes(text), 'the answer is back after unlocking');
  await page.click('button.back');

  // Change it: the old PIN no longer opens the app.
  await page.click('#tab-more');
  await page.waitForSelector('#pin-current');
  await page.fill('#pin-current', '482916');
  await page.fill('#pin-new', 'river-9021');
  await page.fill('#pin-repeat', 'river-9021');
  await page.click('#pin-save');
  await page.waitForSelector('#pin-message:has-text("encrypted")');
  await page.reload();
  await page.fill('#unlock-pin', '482916');
  await page.click('#unlock-button');
  await page.waitForSelector('#unlock-error:has-text("not right")');
  await page.fill('#unlock-pin', 'river-9021');
  await page.click('#unlock-button');
  await page.waitForSelector('#response-list');

  // The unsent work still goes out.
  await context.setOffline(false);
  await sync(page);
  assert.equal(Number(storedResponses(live)), before + 1);
  assert.equal(await page.locator('#response-list li').count(), 0, 'nothing left to send');
  assert.match(await page.locator('#sent-count').textContent(), /1 sent/);

  // Removed: the app opens without asking, and the storage is plain again.
  await page.click('#tab-more');
  await page.waitForSelector('#pin-current');
  await page.fill('#pin-current', 'river-9021');
  await page.click('#pin-remove');
  await page.waitForSelector('#pin-message:has-text("removed")');
  await page.reload();
  await page.waitForSelector('#sync-button');
  assert.equal(await page.locator('#lock-screen').count(), 0);

  // A forgotten PIN: the lock screen offers to delete everything and start again.
  await page.click('#tab-more');
  await page.fill('#pin-new', 'forgotten-1');
  await page.fill('#pin-repeat', 'forgotten-1');
  await page.click('#pin-save');
  await page.waitForSelector('#pin-message:has-text("encrypted")');
  await page.reload();
  await page.click('#lock-screen summary');
  await page.click('#forgot-erase');
  await page.waitForSelector('#enroll-code');
  const left = await page.evaluate(() => new Promise((done) => {
    const open = indexedDB.open('survey-field');
    open.onsuccess = () => {
      const keys = open.result.transaction('kv').objectStore('kv').getAllKeys();
      keys.onsuccess = () => done(keys.result);
    };
  }));
  assert.ok(!left.includes('state') && !left.includes('device') && !left.includes('pin'), JSON.stringify(left));
  await context.close();
});

test('a response withdrawn on the phone is removed from the server', async () => {
  const { context, page } = await phone('withdraw');
  await enroll(page);
  await page.click('#tab-more');
  await page.uncheck('#delete-after-send');
  await page.click('#tab-surveys');
  const before = Number(storedResponses(live));
  await fill(page, needle('withdraw'));
  await sync(page);
  assert.equal(Number(storedResponses(live)), before + 1);
  assert.equal(await page.locator('#response-list li').count(), 1, 'kept after sending with the setting off');

  await page.click('[data-withdraw]');
  await page.waitForSelector('#withdraw-dialog');
  await page.click('#withdraw-cancel');
  assert.equal(await page.locator('#response-list li').count(), 1, 'cancel keeps it');
  await page.click('[data-withdraw]');
  await page.screenshot({ path: join(shots, 'safety-03-withdraw-dialog.png') });
  await page.click('#withdraw-confirm');
  await page.waitForFunction(() => !document.querySelector('#response-list'));
  await page.waitForFunction(() => !document.querySelector('#sync-button')?.disabled);
  assert.equal(Number(storedResponses(live)), before, 'gone from the server');
  assert.ok(!(await storageText(page)).includes(needle('withdraw')), 'and from the phone');
  await page.reload();
  await page.waitForSelector('#sync-button');
  await sync(page);
  assert.equal(Number(storedResponses(live)), before, 'never sent again');
  await context.close();
});

test('a copy saved before a demo reset and loaded after it sends nothing old to the server', async () => {
  const demo = (await server.admin('POST', '/v1/datasets', { name: 'Training', mode: 'demo' })).id;
  await server.admin('POST', `/v1/datasets/${demo}/forms`, FORM);
  const code = (await server.admin('POST', `/v1/datasets/${demo}/enrollments`, { label: 'trainees', uses: 1, expires_in_hours: 1 })).code;
  const { context, page } = await phone('trainee');
  await enroll(page, code);
  await fill(page, needle('practice-sent'));
  await sync(page);
  assert.equal(await page.locator('#response-list li').count(), 1, 'a demo phone keeps what it sent');
  await context.setOffline(true);
  await fill(page, needle('practice-unsent'));
  await page.click('#tab-more');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  const backup = join(shots, 'backup-before-reset.json');
  await download.saveAs(backup);
  assert.equal(storedResponses(demo), '1');

  await server.admin('POST', `/v1/datasets/${demo}/reset`, { seed: 3, responses: 0 });
  await context.setOffline(false);
  await page.waitForSelector('#reset-dialog', { timeout: 30_000 });
  await page.click('#reset-dialog button:has-text("Remove them and continue")');
  await page.waitForSelector('#notice:has-text("reset the practice data")');
  await page.waitForFunction(() => !document.querySelector('#sync-button').disabled);
  assert.equal(storedResponses(demo), '0');

  await page.click('#tab-more');
  await page.setInputFiles('#import-file', backup);
  await page.waitForSelector('#backup-message:has-text("before your trainer reset")');
  await page.screenshot({ path: join(shots, 'safety-04-stale-copy.png'), fullPage: true });
  await page.click('#tab-surveys');
  assert.equal(await page.locator('#response-list').count(), 0, 'nothing of the old copy on the phone');
  await sync(page);
  assert.equal(storedResponses(demo), '0', 'nothing of the old practice data reached the server');
  await context.close();
});

test('no page tripped the server\'s Content-Security-Policy', () => {
  assert.deepEqual(policyViolations, []);
});
