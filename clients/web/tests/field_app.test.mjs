// The field worker's app in headless Chromium against the real survey-server binary:
// enroll, go offline, fill two surveys (every question type), reload offline and find them,
// come back online, sync, and check on the server that both arrived exactly once; then two
// phones bump one site's tally offline and the totals add up.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPolicyViolations } from './chromium.mjs';
import { startSurveyServer } from './survey_server.mjs';
import { PHONE, enroll as enrollPhone, sync } from './field_phone.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const webRoot = resolve(here, '..');
const shots = resolve(process.env.SCREENSHOT_DIR ?? join(here, '../../../target/screenshots'));

const FORM = {
  id: 'outreach-contact', version: 1, title: 'Outreach contact log',
  areas: ['north', 'south', 'river_market'],
  questions: [
    { id: 'gender', type: 'single', label: 'Gender', options: ['f', 'm', 'x'], required: true },
    { id: 'needs', type: 'multi', label: 'What help was asked for?', options: [{ id: 'shelter', label: 'Shelter' }, { id: 'health', label: 'Health care' }, 'legal'] },
    { id: 's1', type: 'likert', label: 'People here would help a victim', scale: 5, required: true },
    { id: 'contacts', type: 'integer', label: 'How many people were in the group?', min: 1, max: 50 },
    { id: 'visit', type: 'date', label: 'Day of the first outreach visit' },
    { id: 'notes', type: 'text', label: 'Notes', max_len: 200 },
  ],
};

let server;
let app;
let browser;
let dataset;
let code;
const policyViolations = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startSurveyServer(process.env.SURVEY_SERVER_BIN);
  dataset = (await server.admin('POST', '/v1/datasets', { name: 'Browser test', mode: 'live', k: 5 })).id;
  await server.admin('POST', `/v1/datasets/${dataset}/forms`, FORM);
  code = (await server.admin('POST', `/v1/datasets/${dataset}/enrollments`, { label: 'browser test phones', uses: 5, expires_in_hours: 1 })).code;
  app = await appOrigin(server.origin);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The server serves the app itself at `/`, from the same origin as the API.
async function appOrigin(origin) {
  const page = await fetch(`${origin}/`);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/, 'the server serves the app at /');
  const wasm = await fetch(`${origin}/pkg/survey_wasm_bg.wasm`);
  assert.equal(wasm.status, 200, 'the engine is built and served');
  assert.equal(wasm.headers.get('content-type'), 'application/wasm', 'the server must serve .wasm as application/wasm');
  return { origin };
}

async function phone(name) {
  const context = await browser.newContext(PHONE);
  const violations = watchPolicyViolations(context);
  context.on('close', () => policyViolations.push(...violations.map((v) => `[${name}] ${v}`)));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`# [${name}] page error: ${error.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') console.log(`# [${name}] console: ${msg.text()}`); });
  return { context, page };
}

async function enroll(page, withCode = code) {
  await enrollPhone(page, app.origin, withCode, FORM.id);
}

async function fillSurvey(page, answers, { viaDraft = false } = {}) {
  await page.click(`button[data-form="${FORM.id}"]`);
  await page.check(`input[name="area"][value="${answers.area}"]`);
  if (viaDraft) {
    // Part of it now, kept as a draft, the rest after reopening it from the list.
    await page.fill('#q-notes', 'to be replaced');
    await page.click('#save-draft');
    await page.waitForSelector('#form-status:has-text("Draft saved")');
    await page.click('button.back');
    await page.locator('button[data-status="draft"]').first().click();
    assert.equal(await page.locator('#q-notes').inputValue(), 'to be replaced');
    assert.equal(await page.locator(`input[name="area"][value="${answers.area}"]`).isChecked(), true);
  }
  await page.check(`input[name="q-gender"][value="${answers.gender}"]`);
  for (const need of answers.needs) await page.check(`input[name="q-needs"][value="${need}"]`);
  await page.check(`input[name="q-s1"][value="${answers.s1}"]`);
  await page.fill('#q-contacts', String(answers.contacts));
  await page.fill('#q-visit', answers.visit);
  await page.fill('#q-notes', answers.notes);
  await page.click('#next-page');
  await page.click('#finish');
  await page.waitForSelector('#response-list');
}

test('every app module is in the service worker shell, so the app starts offline', () => {
  const sw = readFileSync(join(webRoot, 'sw.js'), 'utf8');
  for (const file of readdirSync(join(webRoot, 'app'))) assert.ok(sw.includes(`'/app/${file}'`), `sw.js does not cache app/${file}`);
});

test('offline surveys survive a reload and arrive on the server exactly once', async () => {
  const { context, page } = await phone('A');
  await enroll(page);
  await page.screenshot({ path: join(shots, '01-enrolled.png'), fullPage: true });

  // The engine's own refusals reach JS as Errors with the wire code, the precise kind and the
  // question, which the app turns into plain words next to that question.
  const refusal = await page.evaluate(async (formId) => {
    const wasm = await import('/pkg/survey_wasm.js');
    await wasm.default();
    const bytes = await new Promise((resolve) => {
      const open = indexedDB.open('survey-field');
      open.onsuccess = () => {
        const get = open.result.transaction('kv').objectStore('kv').get('state');
        get.onsuccess = () => resolve(get.result);
      };
    });
    const engine = wasm.SurveyClient.load(bytes);
    try {
      engine.createResponse(formId, JSON.stringify({ area: 'north', collected_on: '2026-11-20', answers: { s1: 9 } }));
      return null;
    } catch (error) {
      return { isError: error instanceof Error, code: error.code, detail: error.detail, question: error.question };
    }
  }, FORM.id);
  assert.deepEqual(refusal, { isError: true, code: 'invalid', detail: 'out_of_range', question: 's1' });

  await context.setOffline(true);
  assert.equal(await page.evaluate(() => navigator.onLine), false);

  // Plain-word validation: a number out of range stops the page; the review page lists the
  // required answers missing, and Finish is refused until they are given.
  await page.click(`button[data-form="${FORM.id}"]`);
  await page.fill('#q-contacts', '500');
  await page.click('#next-page');
  await page.waitForSelector('#form-errors:not(:empty)');
  assert.match(await page.locator('[data-question="contacts"] .error').textContent(), /Enter a number from 1 to 50/);
  await page.screenshot({ path: join(shots, '02-validation.png'), fullPage: true });
  await page.fill('#q-contacts', '5');
  await page.click('#next-page');
  await page.click('#finish');
  await page.waitForSelector('#form-errors:not(:empty)');
  const missing = await page.locator('#missing-list button').evaluateAll((buttons) => buttons.map((b) => b.dataset.jump));
  assert.deepEqual(missing, ['area', 'gender', 's1']);
  assert.equal(await page.locator('#review').isVisible(), true, 'Finish refused: still on the review page');
  await page.click('button.back');

  await fillSurvey(page, { area: 'north', gender: 'f', needs: ['shelter', 'legal'], s1: 4, contacts: 3, visit: '2026-11-02', notes: 'Met near the bus station, call +44 7700 900123' });
  await fillSurvey(page, { area: 'river_market', gender: 'x', needs: ['health'], s1: 2, contacts: 12, visit: '2026-11-20', notes: 'Group asked for leaflets' }, { viaDraft: true });
  assert.equal(await page.locator('#response-list li').count(), 2);
  assert.match(await page.locator('#pending-count').textContent(), /2 waiting to send/);

  await page.reload();
  await page.waitForSelector('#response-list');
  assert.equal(await page.evaluate(() => navigator.onLine), false, 'the reload happened offline');
  assert.equal(await page.locator('#response-list li').count(), 2, 'both surveys are still there after an offline reload');
  assert.equal(await page.locator('button[data-status="submitted"]').count(), 2);
  await page.screenshot({ path: join(shots, '03-offline-after-reload.png'), fullPage: true });

  // The scrubbed note: the phone number never leaves the phone.
  await page.locator('button[data-status="submitted"]').last().click();
  const shown = await page.locator('.survey').textContent();
  assert.ok(!shown.includes('7700 900123'), 'the phone number in the note was scrubbed');
  await page.screenshot({ path: join(shots, '04-finished-survey.png'), fullPage: true });
  await page.click('button.back');

  // A copy of the unsent work, saved to a file while offline.
  await page.click('#tab-more');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  const backup = join(shots, 'backup.json');
  await download.saveAs(backup);
  assert.equal(JSON.parse(readFileSync(backup, 'utf8')).unsent >= 2, true);
  await page.screenshot({ path: join(shots, '05-more-tab.png'), fullPage: true });
  await page.click('#tab-surveys');

  await context.setOffline(false);
  await sync(page);
  assert.match(await page.locator('#pending-count').textContent(), /Everything is sent/);
  await sync(page); // a second sync must not duplicate anything
  await page.screenshot({ path: join(shots, '06-synced.png'), fullPage: true });

  const hex = dataset.replaceAll('-', '');
  assert.equal(server.sql(`SELECT count(*) FROM responses WHERE dataset = X'${hex}' AND status = 'submitted'`), '2');
  assert.equal(server.sql(`SELECT count(*) FROM documents WHERE dataset = X'${hex}' AND kind = 'response'`), '2');
  assert.equal(server.sql(`SELECT group_concat(area, ',') FROM (SELECT area FROM responses WHERE dataset = X'${hex}' ORDER BY area)`), 'north,river_market');
  assert.equal(server.sql(`SELECT group_concat(num, ',') FROM (SELECT num FROM answers WHERE dataset = X'${hex}' AND question = 'contacts' ORDER BY num)`), '3,12');
  assert.equal(server.sql(`SELECT count(*) FROM quarantine`), '0');
  await context.close();

  // A wiped browser restored from the file: the surveys are back, and sending them again
  // (they were already sent) still leaves exactly one copy of each on the server. In this live
  // dataset the phone then deletes them after send (the start-up sync may already have), so
  // they show as the count of sent ones.
  const wiped = await phone('restored');
  await wiped.page.goto(app.origin);
  await wiped.page.click('summary:has-text("Load a saved copy instead")');
  await wiped.page.setInputFiles('#restore-file', backup);
  await wiped.page.waitForSelector('#sync-button');
  await sync(wiped.page);
  assert.match(await wiped.page.locator('#pending-count').textContent(), /Everything is sent/);
  assert.match(await wiped.page.locator('#sent-count').textContent(), /2 sent/);
  assert.equal(server.sql(`SELECT count(*) FROM documents WHERE dataset = X'${hex}' AND kind = 'response'`), '2');
  assert.equal(server.sql(`SELECT count(*) FROM quarantine`), '0');
  await wiped.context.close();
});

test('two phones bump one site offline and the totals add up', async () => {
  const a = await phone('A2');
  const b = await phone('B');
  await enroll(a.page);
  await a.page.click('#tab-sites');
  await a.page.click('summary:has-text("Add a new site")');
  await a.page.fill('#new-site-name', 'Bus station east gate');
  await a.page.click('#add-site');
  await a.page.waitForSelector('article.site');
  await sync(a.page);

  await enroll(b.page);
  await b.page.click('#tab-sites');
  await b.page.waitForSelector('article.site');

  await a.context.setOffline(true);
  await b.context.setOffline(true);
  const plus = (page) => page.locator('article.site [data-metric="contacts"] button.plus');
  for (let i = 0; i < 3; i++) await plus(a.page).click();
  for (let i = 0; i < 4; i++) await plus(b.page).click();
  await b.page.locator('article.site [data-metric="kits"] button.plus').click();
  await b.page.screenshot({ path: join(shots, '07-site-tallies-offline.png'), fullPage: true });

  await a.context.setOffline(false);
  await b.context.setOffline(false);
  await sync(a.page);
  await sync(b.page);
  await sync(a.page); // A learns B's taps
  for (const page of [a.page, b.page]) {
    assert.equal(await page.locator('article.site [data-metric="contacts"] .tally-total').textContent(), '7');
    assert.equal(await page.locator('article.site [data-metric="kits"] .tally-total').textContent(), '1');
  }
  await a.page.screenshot({ path: join(shots, '08-site-tallies-synced.png'), fullPage: true });
  const hex = dataset.replaceAll('-', '');
  // The site's count as analysts get it: the site document's own, less what the server added
  // to it for older phones, plus every phone's tally document (survey_server::site_totals).
  const total = `SELECT t.total - COALESCE(s.folded, 0) + COALESCE(s.devices, 0) FROM site_tallies t
    LEFT JOIN site_totals s ON s.site = t.document AND s.metric = t.metric
    WHERE t.dataset = X'${hex}' AND t.metric = 'contacts'`;
  assert.equal(server.sql(total), '7');
  assert.equal(server.sql(`SELECT count(*) FROM documents WHERE dataset = X'${hex}' AND kind = 'site'`), '1');
  assert.equal(server.sql(`SELECT count(*) FROM documents WHERE dataset = X'${hex}' AND kind = 'tally'`), '2', 'one per phone');
  await a.context.close();
  await b.context.close();
});

test('a trainer reset offers to keep unsent practice work before removing it', async () => {
  const demo = (await server.admin('POST', '/v1/datasets', { name: 'Training', mode: 'demo' })).id;
  await server.admin('POST', `/v1/datasets/${demo}/forms`, FORM);
  const demoCode = (await server.admin('POST', `/v1/datasets/${demo}/enrollments`, { label: 'trainees', uses: 1, expires_in_hours: 1 })).code;
  const { context, page } = await phone('trainee');
  await enroll(page, demoCode);
  await context.setOffline(true);
  await fillSurvey(page, { area: 'south', gender: 'm', needs: [], s1: 5, contacts: 2, visit: '2026-11-03', notes: 'practice' });
  await server.admin('POST', `/v1/datasets/${demo}/reset`, { seed: 7, responses: 0 });

  // Back online: the automatic sync meets the reset and asks first.
  await context.setOffline(false);
  await page.waitForSelector('#reset-dialog', { timeout: 30_000 });
  assert.match(await page.locator('#reset-dialog').textContent(), /1 item\(s\) on this phone were not sent/);
  await page.screenshot({ path: join(shots, '09-reset-dialog.png') });
  await page.click('#reset-dialog button:has-text("Not now")');
  await page.waitForSelector('#sync-error');
  assert.equal(await page.locator('#response-list li').count(), 1, 'nothing removed when the worker says not now');

  await page.click('#sync-button');
  await page.waitForSelector('#reset-dialog');
  await page.click('#reset-dialog button:has-text("Remove them and continue")');
  await page.waitForSelector('#notice:has-text("reset the practice data")');
  await page.waitForFunction(() => !document.querySelector('#sync-button').disabled);
  assert.equal(await page.locator('#response-list').count(), 0, 'the practice survey is gone');
  assert.equal(await page.locator(`button[data-form="${FORM.id}"]`).count(), 1, 'the forms came back after the reset');
  const backupKept = await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('survey-field');
    open.onsuccess = () => {
      const get = open.result.transaction('kv').objectStore('kv').get('backup-before-reset');
      get.onsuccess = () => resolve(get.result instanceof Uint8Array && get.result.length > 0);
    };
  }));
  assert.ok(backupKept, 'a copy of the state before the reset is kept on the phone');
  await page.screenshot({ path: join(shots, '10-after-reset.png'), fullPage: true });
  await context.close();
});

test('no page tripped the server\'s Content-Security-Policy', () => {
  assert.deepEqual(policyViolations, []);
});
