// A form with sections, notes, skip logic and Spanish (the demo outreach form) walked in the
// field app in headless Chromium against the real survey-server binary: pages with back and
// next, questions appearing and disappearing as answers change, an answer that disappears
// never reaching the server, the review page listing a missing required answer, the language
// switch surviving a reload, and the server holding exactly the answers the form asked for.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPolicyViolations } from './chromium.mjs';
import { startSurveyServer } from './survey_server.mjs';
import { PHONE, answersOf, enroll, pick, sectionShown, sync, visible } from './field_phone.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const shots = resolve(process.env.SCREENSHOT_DIR ?? join(here, '../../../target/screenshots'));
const demoForm = (name) => JSON.parse(readFileSync(join(root, `server/src/demo/forms/${name}.json`), 'utf8'));
const FORM = demoForm('outreach-contact');
const STIGMA = demoForm('community-stigma');

let server;
let browser;
let dataset;
let code;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startSurveyServer(process.env.SURVEY_SERVER_BIN);
  dataset = (await server.admin('POST', '/v1/datasets', { name: 'Pages test', mode: 'live', k: 5 })).id;
  await server.admin('POST', `/v1/datasets/${dataset}/forms`, FORM);
  await server.admin('POST', `/v1/datasets/${dataset}/forms`, STIGMA);
  code = (await server.admin('POST', `/v1/datasets/${dataset}/enrollments`, { label: 'pages test phones', uses: 4, expires_in_hours: 1 })).code;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});


const serverAnswers = (area) => answersOf(server, dataset, area);

test('every sentence the app says has a Spanish translation', async () => {
  const { catalogues } = await import('../app/words.js');
  const said = new Set();
  for (const file of readdirSync(join(here, '../app')).filter((f) => f.endsWith('.js'))) {
    const source = readFileSync(join(here, '../app', file), 'utf8');
    for (const [, literal] of source.matchAll(/\bsay\('((?:[^'\\]|\\.)*)'/g)) said.add(JSON.parse(`"${literal.replaceAll('"', '\\"')}"`));
    for (const [, literal] of source.matchAll(/^ {2}\w+: '((?:[^'\\]|\\.)*)',$/gm)) if (file === 'words.js') said.add(JSON.parse(`"${literal}"`));
  }
  assert.ok(said.size > 60, `found ${said.size} sentences`);
  // And nothing the app shows is written outside `say`: a capitalized word followed by more
  // words or ending a sentence, in a string literal not passed to it.
  const prose = /^[A-Z][a-z\u2019']*( [a-z]|[.!?]|\\u2026|$)|^OK$/;
  const unsaid = readdirSync(join(here, '../app')).filter((f) => f.endsWith('.js') && f !== 'words.js').flatMap((file) => {
    const source = readFileSync(join(here, '../app', file), 'utf8').replace(/^\s*\/\/.*$/gm, '');
    return [...source.matchAll(/(say\(\s*)?(['`])((?:[^'`\\]|\\.)*)\2/g)]
      .filter(([, said, , literal]) => !said && prose.test(literal)).map(([, , , literal]) => `${file}: ${literal}`);
  });
  assert.deepEqual(unsaid, [], 'shown without say()');
  assert.deepEqual([...said].filter((s) => !(s in catalogues.es)), [], 'untranslated');
  assert.deepEqual(Object.keys(catalogues.es).filter((s) => !said.has(s)), [], 'translated but never said');
});

test('a form with skip logic, walked in English and in Spanish, sends exactly what it asked', async () => {
  const context = await browser.newContext(PHONE);
  const violations = watchPolicyViolations(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`# page error: ${error.message}`));
  await enroll(page, server.origin, code, FORM.id);

  // English (the phone's language): page 1 of 4, the consent note first.
  await page.click(`button[data-form="${FORM.id}"]`);
  assert.equal(await sectionShown(page), 'contact');
  assert.match(await page.locator('#page-progress').textContent(), /Page 1 of 4/);
  assert.match(await page.locator('[data-question="consent"]').textContent(), /talking is voluntary/);
  assert.equal(await page.locator('#prev-page').isDisabled(), true);
  await page.check('input[name="area"][value="north"]');
  await pick(page, 'contact_type', 'street');
  await pick(page, 'gender', 'f');
  // A note that appears for a child, and goes again.
  assert.equal(await visible(page, 'minor_steps'), false);
  await pick(page, 'age_group', 'under18');
  assert.equal(await visible(page, 'minor_steps'), true);
  await pick(page, 'age_group', '18-24');
  assert.equal(await visible(page, 'minor_steps'), false);

  await page.click('#next-page');
  assert.equal(await sectionShown(page), 'work');
  assert.equal(await visible(page, 'indicators'), true, 'asked while the work is unknown');
  await pick(page, 'work_sector', 'construction');
  await pick(page, 'indicators', 'debt');
  await page.screenshot({ path: join(shots, '20-pages-work.png'), fullPage: true });

  // Saved and sent as a draft with the sign of exploitation...
  await page.click('#save-draft');
  await page.waitForSelector('#form-status:has-text("Draft saved")');
  await page.click('button.back');
  await sync(page);
  assert.deepEqual(serverAnswers('north').filter((a) => a.startsWith('indicators')), ['indicators=debt']);
  await page.locator('button[data-status="draft"]').click();
  await page.click('#next-page');
  assert.equal(await page.locator('input[name="q-indicators"][value="debt"]').isChecked(), true);
  // ...then "no work": the question disappears and its answer with it.
  await pick(page, 'work_sector', 'none');
  assert.equal(await visible(page, 'indicators'), false);
  await pick(page, 'work_sector', 'other');
  assert.equal(await visible(page, 'indicators'), true);
  assert.equal(await page.locator('input[name="q-indicators"][value="debt"]').isChecked(), false, 'the hidden answer was emptied');
  await pick(page, 'work_sector', 'none');

  // Back keeps what was answered.
  await page.click('#prev-page');
  assert.equal(await sectionShown(page), 'contact');
  assert.equal(await page.locator('input[name="q-gender"][value="f"]').isChecked(), true);
  await page.click('#next-page');
  await page.click('#next-page');
  assert.equal(await sectionShown(page), 'support');
  await page.fill('#q-people_present', '3');
  await pick(page, 'services', 'kit');
  await pick(page, 'follow_up', 'yes');
  assert.equal(await page.locator('#next-page').textContent(), 'Review');
  await page.click('#next-page');
  assert.match(await page.locator('#page-progress').textContent(), /Page 4 of 4/);
  assert.match(await page.locator('#review-summary').textContent(), /Everything needed is answered/);
  await page.click('#finish');
  await page.waitForSelector('#response-list');

  // Spanish, chosen on the survey screen: the form and the app's own words change, and the
  // page and what was typed stay.
  await page.click(`button[data-form="${FORM.id}"]`);
  await pick(page, 'contact_type', 'online');
  await page.click('#next-page');
  await page.click('#next-page');
  await page.fill('#q-people_present', '7');
  await page.selectOption('#language', 'es');
  await page.waitForSelector('#next-page:has-text("Revisar")');
  assert.equal(await sectionShown(page), 'support');
  assert.equal(await page.locator('#q-people_present').inputValue(), '7', 'typed text survives the switch');
  assert.equal(await page.locator('.section-label:visible').textContent(), 'El grupo y lo que ofreciste');
  await page.click('#prev-page');
  await page.click('#prev-page');
  assert.equal(await page.locator('.section-label:visible').textContent(), 'El contacto');
  assert.equal(await page.locator('input[name="q-contact_type"][value="online"]').isChecked(), true);
  assert.match(await page.locator('[data-question="consent"]').textContent(), /hablar es voluntario/);
  assert.match(await page.locator('[data-question="contact_type"]').textContent(), /¿Dónde fue el contacto\?.*Calle/);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'es');
  await page.screenshot({ path: join(shots, '21-pages-spanish.png'), fullPage: true });

  // The choice is kept on the phone: after a reload the app still speaks Spanish.
  await page.reload();
  await page.waitForSelector(`button[data-form="${FORM.id}"]`);
  assert.equal(await page.locator('#tab-surveys').textContent(), 'Encuestas');
  assert.equal(await page.locator(`button[data-form="${FORM.id}"]`).textContent(), '+ Nueva: Registro de contactos de calle');
  await page.click(`button[data-form="${FORM.id}"]`);
  assert.equal(await page.locator('#language').inputValue(), 'es');
  assert.equal(await page.locator('#next-page').textContent(), 'Siguiente');
  await page.check('input[name="area"][value="south"]');
  await pick(page, 'contact_type', 'hotline');
  await pick(page, 'age_group', 'under18');
  assert.match(await page.locator('[data-question="minor_steps"]').textContent(), /protección infantil/);
  await page.click('#next-page');
  await pick(page, 'work_sector', 'entertainment');
  await pick(page, 'indicators', 'cannot_leave');
  await page.click('#next-page');
  assert.equal(await visible(page, 'people_present'), false, 'a hotline call has no group');
  await page.click('#next-page');
  assert.equal(await page.locator('#review').isVisible(), true);

  // The gender was skipped: the review lists it, Finish is refused, and a tap goes there.
  assert.match(await page.locator('#review-summary').textContent(), /Falta 1 respuesta/);
  assert.deepEqual(await page.locator('#missing-list button').evaluateAll((b) => b.map((x) => x.dataset.jump)), ['gender']);
  assert.match(await page.locator('#missing-list').textContent(), /Género/);
  await page.click('#finish');
  assert.match(await page.locator('#form-errors').textContent(), /Todavía no se puede terminar/);
  assert.equal(await page.locator('#review').isVisible(), true, 'still on the review page');
  await page.screenshot({ path: join(shots, '22-review-missing.png'), fullPage: true });
  await page.click('#missing-list [data-jump="gender"]');
  assert.equal(await sectionShown(page), 'contact');
  assert.equal(await visible(page, 'gender'), true);
  await pick(page, 'gender', 'x');
  await page.click('#next-page');
  await page.click('#next-page');
  await page.click('#next-page');
  assert.match(await page.locator('#review-summary').textContent(), /Todo lo necesario está respondido/);
  await page.click('#finish');
  await page.waitForSelector('#response-list');

  // The finished survey reads back in Spanish, only what was asked.
  await page.locator('button[data-status="submitted"]').first().click();
  assert.match(await page.locator('[data-answer="indicators"]').textContent(), /No puede dejar el lugar de trabajo/);
  assert.equal(await page.locator('[data-answer="people_present"]').count(), 0, 'a question not asked is not listed');
  await page.click('button.back');

  await sync(page);
  const hex = dataset.replaceAll('-', '');
  assert.equal(server.sql(`SELECT count(*) FROM responses WHERE dataset = X'${hex}' AND status = 'submitted'`), '2');
  assert.deepEqual(serverAnswers('north'), [
    'contact_type=street', 'follow_up=yes', 'gender=f', 'age_group=18-24', 'people_present=3', 'services=kit', 'work_sector=none',
  ].sort(), 'the cleared sign of exploitation is gone from the server too');
  assert.deepEqual(serverAnswers('south'), [
    'age_group=under18', 'contact_type=hotline', 'gender=x', 'indicators=cannot_leave', 'work_sector=entertainment',
  ].sort());
  assert.equal(server.sql(`SELECT count(*) FROM quarantine`), '0');
  await context.close();
  assert.deepEqual(violations, []);
});

test('likert points show their labels, and a whole section appears when its rule holds', async () => {
  const context = await browser.newContext(PHONE);
  const violations = watchPolicyViolations(context);
  const page = await context.newPage();
  await enroll(page, server.origin, code, STIGMA.id);
  await page.click(`button[data-form="${STIGMA.id}"]`);
  assert.match(await page.locator('[data-question="consent"]').textContent(), /Taking part is voluntary/);
  await page.click('#next-page');
  assert.equal(await sectionShown(page), 'attitudes');
  const st2 = page.locator('[data-question="st2"] .choice');
  assert.deepEqual(await st2.allTextContents(), ['Strongly disagree', 'Disagree', 'Neither agree nor disagree', 'Agree', 'Strongly agree']);
  await page.check('input[name="q-st2"][value="4"]');
  await page.click('#next-page');
  assert.equal(await sectionShown(page), 'support');
  assert.match(await page.locator('#page-progress').textContent(), /Page 3 of 4/, 'no page for returnees yet');
  await page.fill('#q-known_migrants', '0');
  assert.equal(await page.locator('#next-page').textContent(), 'Review');
  await page.fill('#q-known_migrants', '2');
  assert.equal(await page.locator('#next-page').textContent(), 'Next');
  await page.click('#next-page');
  assert.equal(await sectionShown(page), 'returnees');
  assert.match(await page.locator('#page-progress').textContent(), /Page 4 of 5/);
  assert.equal(await visible(page, 'returnee_welcome'), false);
  await pick(page, 'returned', 'yes');
  assert.equal(await visible(page, 'returnee_welcome'), true);
  await page.selectOption('#language', 'es');
  await page.waitForSelector('#next-page:has-text("Revisar")');
  assert.equal(await sectionShown(page), 'returnees');
  assert.deepEqual(await page.locator('[data-question="returnee_welcome"] .choice').allTextContents(),
    ['Muy en desacuerdo', 'En desacuerdo', 'Ni de acuerdo ni en desacuerdo', 'De acuerdo', 'Muy de acuerdo']);
  await page.screenshot({ path: join(shots, '23-likert-labels.png'), fullPage: true });
  // Back to three pages when no one went away: the returnees' answers go with their page.
  await page.click('#prev-page');
  await page.fill('#q-known_migrants', '0');
  await page.click('#next-page');
  assert.equal(await page.locator('#review').isVisible(), true);
  assert.match(await page.locator('#page-progress').textContent(), /Página 4 de 4/);
  await page.click('#prev-page');
  await page.fill('#q-known_migrants', '2');
  await page.click('#next-page');
  assert.equal(await page.locator('input[name="q-returned"][value="yes"]').isChecked(), false, 'the hidden page was emptied');
  await context.close();
  assert.deepEqual(violations, []);
});

test('a phone set to Spanish shows the app in Spanish from the joining screen on', async () => {
  const context = await browser.newContext({ ...PHONE, locale: 'es-MX' });
  const violations = watchPolicyViolations(context);
  const page = await context.newPage();
  await page.goto(server.origin);
  assert.equal(await page.locator('h2').first().textContent(), 'Configura este teléfono');
  assert.equal(await page.locator('#enroll-button').textContent(), 'Unirse');
  await enroll(page, server.origin, code, FORM.id);
  await page.click('#tab-sites');
  assert.match(await page.locator('main, #app').first().textContent(), /Agregar un sitio nuevo/);
  await page.click('#tab-more');
  await page.waitForSelector('#export-button');
  assert.equal(await page.locator('#export-button').textContent(), 'Guardar una copia en un archivo');
  await context.close();
  assert.deepEqual(violations, []);
});
