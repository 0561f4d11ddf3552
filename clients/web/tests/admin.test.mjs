// The admin page in headless Chromium against the real survey-server binary, seeded with its
// demo dataset (2,000 responses, received on the days they were collected): an admin creates a
// dataset, sets a retention after counting what it would delete, publishes forms (JSON, and an
// .xlsx posted as such, whatever the server answers), issues an enrollment code with its QR
// code, revokes a device and a token, empties the quarantine, reads the audit log and purges a
// dataset by typing its name; every figure is checked against the API or the database. No
// answer of any response may appear on the page, nothing may be fetched from elsewhere, and no
// Content-Security-Policy violation may happen.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPolicyViolations } from './chromium.mjs';
import { startSurveyServer } from './survey_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(process.env.SCREENSHOT_DIR ?? join(here, '../../../target/screenshots'));
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
// Free-text notes the demo generator writes into responses: none may reach the page.
const DEMO_NOTES = ['gave 2 kits and a hotline card', 'group was in a hurry, short talk', 'employer nearby, could not talk long'];

const FORM = {
  id: 'site-visit', version: 1, title: 'Site visit log', areas: ['north', 'south'],
  questions: [
    { id: 'kits', type: 'integer', label: 'Kits given', min: 0, max: 100 },
    { id: 'safe', type: 'likert', label: 'Felt safe', scale: 5 },
  ],
};

let server;
let browser;
let demo;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startSurveyServer(process.env.SURVEY_SERVER_BIN, ['--demo']);
  demo = server.stdout.match(/^demo dataset:\s+(\S+) \(epoch \d+\)$/m)?.[1];
  assert.ok(demo, `serve --demo printed no demo dataset:\n${server.stdout}`);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openAdmin() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const policyViolations = watchPolicyViolations(context);
  const page = await context.newPage();
  const requests = [];
  const pageErrors = [];
  context.on('request', (request) => requests.push({ url: request.url(), method: request.method(), type: request.headers()['content-type'] }));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${server.origin}/admin`);
  const done = async () => {
    const elsewhere = requests.filter((r) => new URL(r.url).origin !== server.origin);
    assert.deepEqual(elsewhere, [], 'nothing is fetched from another origin');
    assert.deepEqual(policyViolations, [], 'no Content-Security-Policy violation');
    assert.deepEqual(pageErrors, [], 'no script error');
    await context.close();
  };
  return { page, requests, done };
}

async function connect(page, token) {
  await page.fill('#token', token);
  await page.click('#connect');
  await page.waitForSelector('#datasets tbody tr');
}

// Empties the status line, so that the next wait sees the next answer, not the last one.
const clear = (page) => page.evaluate(() => { document.getElementById('status').textContent = ''; });

// The status line once it says something matching `pattern`.
async function statusMatching(page, pattern) {
  await page.waitForFunction((source) => new RegExp(source).test(document.getElementById('status').textContent), pattern.source);
  return page.evaluate(() => ({ text: document.getElementById('status').textContent, error: document.getElementById('status').className === 'error' }));
}

async function openDataset(page, name) {
  await page.locator('#datasets tbody tr', { hasText: name }).getByRole('button', { name: 'Open' }).click();
  await page.waitForFunction((n) => document.getElementById('dataset-title').textContent.startsWith(n), name);
}

const tab = (page, name) => page.locator('.tabs button', { hasText: name }).click();

const tableText = (page, id) => page.$$eval(`#${id} tbody tr`, (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));

test('a wrong token gets a clear message', async () => {
  const { page, done } = await openAdmin();
  await page.fill('#token', 'not-a-token');
  await page.click('#connect');
  const status = await statusMatching(page, /token was not accepted/);
  assert.ok(status.error, status.text);
  assert.match(status.text, /unauthorized/);
  assert.ok(await page.locator('#datasets-section').isHidden());
  await done();
});

test('retention is counted before it is set, and nothing of any response is shown', async () => {
  const { page, done } = await openAdmin();
  await connect(page, server.adminToken);
  await openDataset(page, 'Demo');
  await page.fill('#retention-days', '30');
  await page.click('#retention-count');
  await page.waitForFunction(() => /would delete/.test(document.getElementById('retention-due').textContent));
  const shown = await page.textContent('#retention-due');
  const dryRun = await server.admin('GET', `/v1/datasets/${demo}/retention?days=30`);
  const inDb = Number(server.sql(`SELECT COUNT(*) FROM responses WHERE status = 'submitted' AND submitted_on < '${dryRun.oldest_kept}'`));
  assert.equal(dryRun.due, inDb);
  assert.ok(inDb > 0, 'the demo data has responses older than 30 days');
  assert.match(shown, new RegExp(`would delete ${inDb} submitted response\\(s\\) now \\(those received before ${dryRun.oldest_kept}\\)`));
  // A dry run deletes nothing.
  assert.equal(Number(server.sql('SELECT COUNT(*) FROM responses')), 2000);

  await page.click('#retention-save');
  await statusMatching(page, /now kept 30 days/);
  const listed = await server.admin('GET', '/v1/datasets');
  assert.equal(listed.find((d) => d.id === demo).retention_days, 30);
  assert.match((await tableText(page, 'datasets')).find((r) => r[0] === 'Demo').join('|'), /30 days/);
  // Back to keeping them.
  await page.fill('#retention-days', '');
  await page.click('#retention-save');
  await statusMatching(page, /kept until withdrawn/);
  assert.equal((await server.admin('GET', '/v1/datasets')).find((d) => d.id === demo).retention_days, null);

  // Every tab of a dataset full of responses: none of their words.
  for (const name of ['Forms', 'Enrollment', 'Devices & tokens', 'Quarantine', 'Audit log', 'Purge', 'Retention']) {
    await tab(page, name);
    await page.waitForLoadState('networkidle');
    const text = await page.evaluate(() => document.body.innerText);
    for (const note of DEMO_NOTES) assert.ok(!text.includes(note), `${name} shows "${note}"`);
  }
  await page.screenshot({ path: join(shots, 'admin-retention.png'), fullPage: true });
  await done();
});

test('an admin sets up a dataset, its forms, phones and tokens, and purges it', async () => {
  const { page, requests, done } = await openAdmin();
  await connect(page, server.adminToken);
  const name = 'North outreach 2027';

  // Create, with a retention.
  await page.fill('#new-name', name);
  await page.selectOption('#new-mode', 'live');
  await page.fill('#new-k', '12');
  await page.fill('#new-retention', '365');
  await page.click('#create-dataset button[type=submit]');
  await statusMatching(page, /created/);
  const created = (await server.admin('GET', '/v1/datasets')).find((d) => d.name === name);
  assert.deepEqual([created.mode, created.k, created.retention_days], ['live', 12, 365]);
  assert.deepEqual((await tableText(page, 'datasets')).find((r) => r[0] === name).slice(0, 4), [name, 'live', '12', '365 days']);
  await page.waitForFunction((n) => document.getElementById('dataset-title').textContent.startsWith(n), name);

  // Forms: JSON published and listed; the same version again refused with the reason.
  await tab(page, 'Forms');
  await clear(page);
  await page.setInputFiles('#form-file', { name: 'site-visit.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(FORM)) });
  await page.click('#form-upload button[type=submit]');
  await statusMatching(page, /Published form "site-visit" version 1/);
  await clear(page);
  await page.setInputFiles('#form-file', { name: 'site-visit.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...FORM, version: 2, title: 'Site visit log, v2' })) });
  await page.click('#form-upload button[type=submit]');
  await statusMatching(page, /version 2/);
  assert.deepEqual(await tableText(page, 'form-versions'), [
    ['site-visit', '2', 'Site visit log, v2', '2'],
    ['site-visit', '1', 'Site visit log', '2'],
  ]);
  await clear(page);
  await page.setInputFiles('#form-file', { name: 'site-visit.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(FORM)) });
  await page.click('#form-upload button[type=submit]');
  let status = await statusMatching(page, /version_exists/);
  assert.ok(status.error);
  assert.match(status.text, /raise the form's version/);
  // A form asking for a phone number is refused, with the server's reason.
  const identifying = { ...FORM, version: 3, questions: [...FORM.questions, { id: 'phone', type: 'text', label: 'Phone number' }] };
  await clear(page);
  await page.setInputFiles('#form-file', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(identifying)) });
  await page.click('#form-upload button[type=submit]');
  status = await statusMatching(page, /\(\w+: .+\)/);
  assert.ok(status.error, status.text);
  assert.match(status.text, /identifies people; remove that question\. \(identifying_question: question "phone"/);
  // An .xlsx goes as itself, with its own content type; the page shows whatever the server says.
  const requestsBefore = requests.length;
  await clear(page);
  await page.setInputFiles('#form-file', { name: 'visit.xlsx', mimeType: XLSX, buffer: Buffer.from('PK\x03\x04 not really a workbook') });
  await page.click('#form-upload button[type=submit]');
  status = await statusMatching(page, /Published|\(\w+/);
  const posted = requests.slice(requestsBefore).find((r) => r.method === 'POST' && r.url.endsWith(`/v1/datasets/${created.id}/forms`));
  assert.equal(posted?.type, XLSX);
  assert.ok(status.text.length > 10, status.text);
  assert.equal((await tableText(page, 'form-versions')).length, 2);

  // An enrollment code with its QR code, which enrolls a phone.
  await tab(page, 'Enrollment');
  await page.fill('#enroll-label', 'north team phones');
  await page.fill('#enroll-uses', '2');
  await page.click('#enroll-form button[type=submit]');
  await page.waitForSelector('#enroll-qr svg');
  const code = await page.textContent('#enroll-code');
  assert.match(code, /^[A-Z0-9-]{8,}$/);
  assert.ok(await page.locator('#enroll-qr svg path, #enroll-qr svg rect').count() > 0, 'the QR code is drawn');
  const enrolled = await (await fetch(`${server.origin}/v1/enroll`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) })).json();
  assert.ok(enrolled.token, JSON.stringify(enrolled));

  // Devices and tokens: revoke (and wipe) the phone, revoke an analyst's token.
  const analyst = await server.admin('POST', '/v1/tokens', { role: 'analyst', name: 'north analyst', dataset: created.id });
  await tab(page, 'Devices & tokens');
  await page.waitForSelector('#devices tbody tr button');
  assert.equal((await tableText(page, 'devices'))[0][0], 'north team phones');
  await page.locator('#devices tbody tr').getByRole('button', { name: 'Revoke and wipe' }).click();
  await statusMatching(page, /revoked; it deletes its data/);
  const [phone] = await server.admin('GET', `/v1/datasets/${created.id}/devices`);
  assert.ok(phone.revoked_on && phone.wipe, JSON.stringify(phone));
  const phoneAnswer = await fetch(`${server.origin}/v1/datasets`, { headers: { Authorization: `Bearer ${enrolled.token}` } });
  assert.equal(phoneAnswer.status, 401);
  await page.locator('#tokens tbody tr', { hasText: 'north analyst' }).getByRole('button', { name: 'Revoke' }).click();
  await statusMatching(page, /Token "north analyst" revoked/);
  const tokens = await server.admin('GET', '/v1/tokens');
  assert.ok(tokens.find((t) => t.id === analyst.id).revoked_on);
  const refused = await fetch(`${server.origin}/v1/datasets`, { headers: { Authorization: `Bearer ${analyst.token}` } });
  assert.equal(refused.status, 401);

  // The quarantine: counts by refusal, then emptied.
  const hex = created.id.replaceAll('-', '');
  for (const [codeName, day] of [['invalid', '2026-12-01'], ['invalid', '2026-12-03'], ['forbidden', '2026-12-02']]) {
    server.sqlWrite(`INSERT INTO quarantine (id, dataset, device, document, code, size, sha256, received_on) VALUES (randomblob(16), X'${hex}', randomblob(16), randomblob(16), '${codeName}', 10, randomblob(32), '${day}')`);
  }
  await tab(page, 'Quarantine');
  await page.waitForFunction(() => document.querySelectorAll('#quarantine tbody tr').length === 2);
  assert.deepEqual(await tableText(page, 'quarantine'), [['forbidden', '1', '2026-12-02', '2026-12-02'], ['invalid', '2', '2026-12-01', '2026-12-03']]);
  await page.click('#quarantine-purge');
  await statusMatching(page, /Deleted 3 quarantine record/);
  assert.equal(server.sql(`SELECT COUNT(*) FROM quarantine WHERE dataset = X'${hex}'`), '0');
  assert.deepEqual(await tableText(page, 'quarantine'), [['Nothing refused.']]);

  // The audit log of the dataset says who did each of these.
  await tab(page, 'Audit log');
  await page.waitForSelector('#audit tbody tr');
  const actions = (await tableText(page, 'audit')).map((r) => r[3]);
  for (const action of ['create_dataset', 'publish_form', 'create_enrollment', 'revoke_device', 'revoke_token:analyst', 'purge_quarantine']) {
    assert.ok(actions.some((a) => a.startsWith(action)), `${action} in ${actions}`);
  }

  // Purge: only with the name typed again.
  await tab(page, 'Purge');
  await page.fill('#purge-name', 'North outreach');
  assert.ok(await page.locator('#purge').isDisabled());
  await page.fill('#purge-name', name);
  assert.ok(await page.locator('#purge').isEnabled());
  await page.screenshot({ path: join(shots, 'admin-purge.png'), fullPage: true });
  await page.click('#purge');
  await statusMatching(page, /purged with its 0 response/);
  assert.ok(!(await server.admin('GET', '/v1/datasets')).some((d) => d.id === created.id));
  assert.ok(!(await tableText(page, 'datasets')).some((r) => r[0] === name));
  assert.ok(await page.locator('#dataset-section').isHidden());
  const audit = await server.admin('GET', '/v1/audit?limit=20');
  assert.ok(audit.some((r) => r.action === 'purge_dataset' && r.dataset === created.id));
  await done();
});
