// The analyst dashboard in headless Chromium against the real survey-server binary, seeded with
// its demo dataset: an analyst asks for a cross-tab through the page's own controls, and every
// number in the table, the chart and the CSV is the API's own, with small groups shown as
// suppressed, never as zero. Nothing may be fetched from anywhere but the server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPolicyViolations } from './chromium.mjs';
import { startSurveyServer } from './survey_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(process.env.SCREENSHOT_DIR ?? join(here, '../../../target/screenshots'));

// Mean stigma index by area and age group among people who would turn to an NGO. On the demo
// data (seed 1, 2,000 responses) the filter leaves some groups below k, so the table holds both
// shown and suppressed cells; the test checks that it does rather than trusting this comment.
const QUERY = { form: 'community-stigma', by: ['area', 'age_group'], metric: 'mean:stigma', where: ['help', 'ngo'] };
const SUPPRESSED_TEXT = 'suppressed (small group)';

let server;
let browser;
let dataset;
let analystToken;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startSurveyServer(process.env.SURVEY_SERVER_BIN, ['--demo']);
  dataset = server.stdout.match(/^demo dataset:\s+(\S+) \(epoch \d+\)$/m)?.[1];
  assert.ok(dataset, `serve --demo printed no demo dataset:\n${server.stdout}`);
  // Analysts use the dashboard; a token limited to the demo dataset is what one would be given.
  analystToken = (await server.admin('POST', '/v1/tokens', { role: 'analyst', name: 'dashboard test', dataset })).token;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The query string the dashboard should build from QUERY, in the API's own terms.
function queryParams() {
  const params = new URLSearchParams({ form: QUERY.form, by: QUERY.by.join(','), metric: QUERY.metric });
  params.append('where', QUERY.where.join('='));
  return params;
}

async function apiTable() {
  const res = await fetch(`${server.origin}/v1/datasets/${dataset}/aggregates?${queryParams()}`, {
    headers: { Authorization: `Bearer ${analystToken}`, Accept: 'application/json' },
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

const keyOf = (cell, by) => by.map((d) => cell.key[d]).join(' / ');
const sortedEntries = (params) => [...params.entries()].sort((a, b) => a.join('=').localeCompare(b.join('=')));

// The table as shown: per row, the text and class of each cell, keyed by the dimension values.
async function tableRows(page, dims) {
  const rows = await page.$$eval('#table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => ({ text: td.textContent, className: td.className, colSpan: td.colSpan }))));
  return new Map(rows.map((cells) => [cells.slice(0, dims).map((c) => c.text).join(' / '), cells.slice(dims)]));
}

// The chart's bars (not the rect inside the hatch pattern), keyed like the table via their
// tooltip "key: value".
async function chartBars(page) {
  const bars = await page.$$eval('#chart svg > rect', (rects) => rects.map((rect) => ({
    title: rect.querySelector('title').textContent,
    className: rect.getAttribute('class'),
    fill: getComputedStyle(rect).fill,
    height: Number(rect.getAttribute('height')),
  })));
  return new Map(bars.map((bar) => {
    const at = bar.title.lastIndexOf(': ');
    return [bar.title.slice(0, at), { ...bar, shows: bar.title.slice(at + 2) }];
  }));
}

// The downloaded CSV, keyed like the table. None of these fields needs quoting, so a quote
// would mean the file is not what this parser expects.
function csvRows(text, dims) {
  assert.ok(!text.includes('"'), text);
  const [header, ...lines] = text.trimEnd().split('\r\n').map((line) => line.split(','));
  return { header, rows: new Map(lines.map((fields) => [fields.slice(0, dims).join(' / '), fields.slice(dims)])) };
}

test('the dashboard shows the API\'s numbers, and small groups as suppressed, never as zero', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const policyViolations = watchPolicyViolations(context);
  const page = await context.newPage();
  const requests = [];
  const pageErrors = [];
  context.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (msg) => { if (msg.type() === 'error') console.log(`# console: ${msg.text()}`); });

  await page.goto(`${server.origin}/analyst`);
  await page.fill('#token', analystToken);
  await page.click('#connect');
  await page.waitForSelector(`#form option[value="${QUERY.form}"]`, { state: 'attached' });
  // The token sees only the demo dataset, so it is the one choice and already picked (picking it
  // again would reload the forms under the controls being set below).
  assert.equal(await page.locator('#dataset option').count(), 1);
  assert.equal(await page.inputValue('#dataset'), dataset);
  assert.match(await page.locator('#dataset option:checked').textContent(), /^Demo \(demo, k=\d+\)$/);

  await page.selectOption('#form', QUERY.form);
  await page.selectOption('#by1', QUERY.by[0]);
  await page.selectOption('#by2', QUERY.by[1]);
  await page.selectOption('#metric', QUERY.metric);
  await page.selectOption('#where-q', QUERY.where[0]);
  await page.selectOption('#where-v', QUERY.where[1]);
  const [asked] = await Promise.all([
    page.waitForResponse((res) => res.url().includes('/aggregates?')),
    page.click('#run'),
  ]);
  await page.waitForSelector('#status:has-text("suppressed")');

  // The page asked exactly our query, and the API answers it with both kinds of cell.
  assert.deepEqual(sortedEntries(new URL(asked.url()).searchParams), sortedEntries(queryParams()));
  const table = await apiTable();
  const shown = table.cells.filter((c) => !c.suppressed);
  const hidden = table.cells.filter((c) => c.suppressed);
  console.log(`# ${table.cells.length} cells: ${shown.length} shown, ${hidden.length} suppressed (k = ${table.k})`);
  assert.ok(shown.length > 0 && hidden.length > 0, `the query must give shown and suppressed cells: ${JSON.stringify(table)}`);
  assert.equal(table.suppressed, hidden.length);
  assert.equal(await page.textContent('#status'), `${table.cells.length} cell(s), ${hidden.length} suppressed (k = ${table.k}).`);

  // Table: one row per cell; a shown cell has the API's count and mean, a suppressed one the mark
  // across both columns and no number at all.
  const dims = table.by.length;
  assert.deepEqual(await page.$$eval('#table thead th', (ths) => ths.map((th) => th.textContent)), [...table.by, 'respondents', 'mean']);
  const rows = await tableRows(page, dims);
  assert.equal(rows.size, table.cells.length);
  for (const cell of table.cells) {
    const key = keyOf(cell, table.by);
    const row = rows.get(key);
    assert.ok(row, `no row for ${key}`);
    if (cell.suppressed) {
      assert.deepEqual(row, [{ text: SUPPRESSED_TEXT, className: 'suppressed', colSpan: 2 }], key);
    } else {
      assert.deepEqual(row.map((c) => [c.text, c.className]), [[String(cell.n), 'num'], [String(cell.value), 'num']], key);
    }
  }

  // Chart: a shown cell is a solid bar of its value; a suppressed one is hatched, labelled so.
  const bars = await chartBars(page);
  assert.equal(bars.size, table.cells.length);
  for (const cell of table.cells) {
    const key = keyOf(cell, table.by);
    const bar = bars.get(key);
    assert.ok(bar, `no bar for ${key}`);
    if (cell.suppressed) {
      assert.deepEqual([bar.className, bar.fill, bar.shows], ['bar-suppressed', 'url("#hatch")', 'suppressed'], key);
    } else {
      assert.deepEqual([bar.className, bar.shows], ['bar', String(cell.value)], key);
      assert.ok(!bar.fill.startsWith('url(') && bar.height > 0, `${key}: ${JSON.stringify(bar)}`);
    }
  }
  assert.equal(await page.locator('#chart svg pattern#hatch').count(), 1);
  await page.screenshot({ path: join(shots, 'analyst-dashboard.png'), fullPage: true });

  // CSV: the same cells, suppressed ones marked in both columns.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  assert.equal(download.suggestedFilename(), 'aggregates.csv');
  const csv = csvRows(readFileSync(await download.path(), 'utf8'), dims);
  assert.deepEqual(csv.header, [...table.by, 'n', table.metric]);
  assert.equal(csv.rows.size, table.cells.length);
  for (const cell of table.cells) {
    const key = keyOf(cell, table.by);
    const expected = cell.suppressed ? ['suppressed', 'suppressed'] : [String(cell.n), String(cell.value)];
    assert.deepEqual(csv.rows.get(key), expected, key);
  }

  // Everything the page loaded came from the server itself.
  const elsewhere = requests.filter((url) => new URL(url).origin !== server.origin);
  assert.deepEqual(elsewhere, [], 'the dashboard fetched from another origin');
  assert.ok(requests.some((url) => url.includes('/aggregates?')), 'the requests were recorded');
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(policyViolations, [], 'nothing tripped the server\'s Content-Security-Policy');
  await context.close();
});
