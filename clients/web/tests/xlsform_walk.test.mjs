// An XLSForm saved by LibreOffice (tests/fixtures/xlsform/outreach-libreoffice.xlsx: a consent
// note, three sections, skip logic within and across them, a likert item, English and Spanish)
// imported in one call, then walked on a phone in headless Chromium: the questions its rules
// ask appear in either language, and the server holds exactly the answers it asked for.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPolicyViolations } from './chromium.mjs';
import { startSurveyServer } from './survey_server.mjs';
import { PHONE, answersOf, enroll, pick, sectionShown, sync, visible } from './field_phone.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const WORKBOOK = readFileSync(join(root, 'tests/fixtures/xlsform/outreach-libreoffice.xlsx'));
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let server;
let browser;
let dataset;
let code;
let imported;

before(async () => {
  server = await startSurveyServer(process.env.SURVEY_SERVER_BIN);
  dataset = (await server.admin('POST', '/v1/datasets', { name: 'XLSForm walk', mode: 'live', k: 5 })).id;
  const reply = await fetch(`${server.origin}/v1/datasets/${dataset}/forms`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': XLSX },
    body: WORKBOOK,
  });
  assert.equal(reply.status, 201, await reply.clone().text());
  imported = await reply.json();
  code = (await server.admin('POST', `/v1/datasets/${dataset}/enrollments`, { label: 'xlsform phones', uses: 2, expires_in_hours: 1 })).code;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});


const serverAnswers = (area) => answersOf(server, dataset, area);

test('the import reports what it dropped', () => {
  assert.equal(imported.form.id, 'outreach');
  const dropped = imported.report.dropped.map((d) => d.type).sort();
  assert.deepEqual(dropped, ['deviceid', 'start', 'today']);
});

test('an imported XLSForm is walked in both languages and sends only what its rules asked', async () => {
  const context = await browser.newContext(PHONE);
  const violations = watchPolicyViolations(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`# page error: ${error.message}`));
  await enroll(page, server.origin, code, 'outreach');

  // Someone who agrees and worked abroad, through an agency, and was not free to leave.
  await page.click('button[data-form="outreach"]');
  assert.equal(await sectionShown(page), 'consent');
  assert.match(await page.locator('[data-question="consent_note"]').textContent(), /Taking part is voluntary/);
  await page.check('input[name="area"][value="north"]');
  await pick(page, 'agree', 'yes');
  await page.click('#next-page');
  assert.equal(await sectionShown(page), 'work');
  assert.equal(await visible(page, 'months_abroad'), false);
  await pick(page, 'worked_abroad', 'yes');
  assert.equal(await visible(page, 'months_abroad'), true);
  await page.fill('#q-months_abroad', '14');
  await pick(page, 'recruited_by', 'agency');
  assert.deepEqual(await page.locator('[data-question="free_to_leave"] .choice').allTextContents(),
    ['Strongly disagree', 'Disagree', 'Neither agree nor disagree', 'Agree', 'Strongly agree']);
  assert.equal(await visible(page, 'weeks_unpaid'), false);
  await pick(page, 'free_to_leave', '2');
  assert.equal(await visible(page, 'weeks_unpaid'), true, 'an agency and not free to leave');
  await page.fill('#q-weeks_unpaid', '9');

  // Spanish from here on: the same page, the workbook's own translations.
  await page.selectOption('#language', 'es');
  await page.waitForSelector('#next-page:has-text("Siguiente")');
  assert.equal(await sectionShown(page), 'work');
  assert.equal(await page.locator('.section-label:visible').textContent(), 'Trabajo');
  assert.match(await page.locator('[data-question="worked_abroad"]').textContent(), /¿Ha trabajado en el extranjero/);
  assert.deepEqual(await page.locator('[data-question="free_to_leave"] .choice').allTextContents(),
    ['Muy en desacuerdo', 'En desacuerdo', 'Ni de acuerdo ni en desacuerdo', 'De acuerdo', 'Muy de acuerdo']);
  await page.click('#next-page');
  assert.equal(await sectionShown(page), 'support');
  assert.equal(await visible(page, 'came_back'), true);
  await pick(page, 'wants_help', 'yes');
  await page.click('#next-page');
  assert.match(await page.locator('#review-summary').textContent(), /Todo lo necesario está respondido/);
  await page.click('#finish');
  await page.waitForSelector('#response-list');

  // Someone who does not agree: the other two sections are never asked.
  await page.click('button[data-form="outreach"]');
  await page.check('input[name="area"][value="south"]');
  await pick(page, 'agree', 'no');
  assert.equal(await page.locator('#next-page').textContent(), 'Revisar', 'nothing left to ask');
  await page.click('#next-page');
  await page.click('#finish');
  await page.waitForSelector('#response-list');

  await sync(page);
  assert.deepEqual(serverAnswers('north'), [
    'agree=yes', 'free_to_leave=2', 'months_abroad=14', 'recruited_by=agency', 'wants_help=yes', 'weeks_unpaid=9', 'worked_abroad=yes',
  ].sort());
  assert.deepEqual(serverAnswers('south'), ['agree=no']);
  assert.equal(server.sql('SELECT count(*) FROM quarantine'), '0');
  await context.close();
  assert.deepEqual(violations, []);
});
