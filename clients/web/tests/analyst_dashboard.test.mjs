// The analyst dashboard in headless Chromium against the real survey-server binary, seeded with
// its demo dataset: an analyst asks for a cross-tab through the page's own controls, and every
// number in the table, the chart and the CSV is the API's own (the perturbed counts, labelled
// in the form's words), with small groups shown as suppressed, never as zero; percentages are
// the API's counts over its totals; weeks draw as lines; site tallies have their own tab.
// Nothing may be fetched from anywhere but the server.

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

async function api(path) {
  const res = await fetch(`${server.origin}${path}`, {
    headers: { Authorization: `Bearer ${analystToken}`, Accept: 'application/json' },
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

const apiTable = (params = queryParams()) => api(`/v1/datasets/${dataset}/aggregates?${params}`);

// What the page should call each value: the form's option label, "Total" for `*`.
async function labeller(formId) {
  const forms = await api(`/v1/datasets/${dataset}/forms`);
  const form = forms.find((f) => f.id === formId);
  return (dimension, value) => {
    if (value === '*') return 'Total';
    const question = form?.questions.find((q) => q.id === dimension);
    const choice = question?.options?.find((o) => (typeof o === 'string' ? o : o.id) === value);
    return choice && typeof choice !== 'string' ? choice.label : value;
  };
}

const sortedEntries = (params) => [...params.entries()].sort((a, b) => a.join('=').localeCompare(b.join('=')));

// The table as shown: per row, the text and class of each cell, keyed by the dimension labels.
async function tableRows(page, dims) {
  const rows = await page.$$eval('#table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => ({ text: td.textContent, className: td.className, colSpan: td.colSpan }))));
  return new Map(rows.map((cells) => [cells.slice(0, dims).map((c) => c.text).join(' / '), cells.slice(dims)]));
}

// The chart's bars (not the rects inside the hatch pattern or the legend), keyed like the
// table via their tooltip "labels: value".
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

// The downloaded CSV, keyed by ids. None of these fields needs quoting, so a quote would mean
// the file is not what this parser expects.
function csvRows(text, dims) {
  assert.ok(!text.includes('"'), text);
  const [header, ...lines] = text.trimEnd().split('\r\n').map((line) => line.split(','));
  return { header, rows: new Map(lines.map((fields) => [fields.slice(0, dims).join(' / '), fields.slice(dims)])) };
}

async function openDashboard() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
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
  const done = async () => {
    const elsewhere = requests.filter((url) => new URL(url).origin !== server.origin);
    assert.deepEqual(elsewhere, [], 'the dashboard fetched from another origin');
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(policyViolations, [], 'nothing tripped the server\'s Content-Security-Policy');
    await context.close();
  };
  return { page, requests, done };
}

async function ask(page, selector, path) {
  const [asked] = await Promise.all([
    page.waitForResponse((res) => res.url().includes(path)),
    page.click(selector),
  ]);
  await page.waitForSelector('#status:has-text("suppressed (k")');
  return asked;
}

test('the dashboard shows the API\'s numbers in the form\'s words, and small groups as suppressed, never as zero', async () => {
  const { page, requests, done } = await openDashboard();
  // The token sees only the demo dataset, so it is the one choice and already picked (picking it
  // again would reload the forms under the controls being set below).
  assert.equal(await page.locator('#dataset option').count(), 1);
  assert.equal(await page.inputValue('#dataset'), dataset);
  assert.match(await page.locator('#dataset option:checked').textContent(), /^Demo \(demo, k=\d+\)$/);
  assert.match(await page.textContent('#perturbation-note'), /moved up or down by a small amount/);

  await page.selectOption('#form', QUERY.form);
  await page.selectOption('#by1', QUERY.by[0]);
  await page.selectOption('#by2', QUERY.by[1]);
  await page.selectOption('#metric', QUERY.metric);
  await page.selectOption('#where-q', QUERY.where[0]);
  await page.selectOption('#where-v', QUERY.where[1]);
  const asked = await ask(page, '#run', '/aggregates?');

  // The page asked exactly our query, and the API answers it with both kinds of cell.
  assert.deepEqual(sortedEntries(new URL(asked.url()).searchParams), sortedEntries(queryParams()));
  const table = await apiTable();
  const label = await labeller(QUERY.form);
  const shown = table.cells.filter((c) => !c.suppressed);
  const hidden = table.cells.filter((c) => c.suppressed);
  console.log(`# ${table.cells.length} cells: ${shown.length} shown, ${hidden.length} suppressed (k = ${table.k})`);
  assert.ok(shown.length > 0 && hidden.length > 0, `the query must give shown and suppressed cells: ${JSON.stringify(table)}`);
  assert.equal(table.suppressed, hidden.length);
  assert.equal(await page.textContent('#status'), `${table.cells.length} cell(s), ${hidden.length} suppressed (k = ${table.k}).`);

  // Table: one row per cell, totals included, in labels; a shown cell has the API's count and
  // mean, a suppressed one the mark across both columns and no number at all.
  const dims = table.by.length;
  assert.deepEqual(await page.$$eval('#table thead th', (ths) => ths.map((th) => th.textContent)), ['Area', 'Age group', 'respondents', 'mean']);
  const labelled = (cell) => table.by.map((d) => label(d, cell.key[d])).join(' / ');
  const rows = await tableRows(page, dims);
  assert.equal(rows.size, table.cells.length);
  assert.ok(rows.has('north / 18 to 24') && rows.has('Total / Total'), [...rows.keys()].join(', '));
  for (const cell of table.cells) {
    const row = rows.get(labelled(cell));
    assert.ok(row, `no row for ${labelled(cell)}`);
    if (cell.suppressed) {
      assert.deepEqual(row, [{ text: SUPPRESSED_TEXT, className: 'suppressed', colSpan: 2 }], labelled(cell));
    } else {
      assert.deepEqual(row.map((c) => [c.text, c.className]), [[String(cell.n), 'num'], [String(cell.value), 'num']], labelled(cell));
    }
  }

  // Chart: grouped bars, one per cell that is not a total; a shown cell is a coloured bar of its
  // value, a suppressed one is hatched and says so; the legend names the series; the y axis has
  // values.
  const bars = await chartBars(page);
  const inner = table.cells.filter((c) => table.by.every((d) => c.key[d] !== '*'));
  assert.equal(bars.size, inner.length);
  for (const cell of inner) {
    const bar = bars.get(labelled(cell));
    assert.ok(bar, `no bar for ${labelled(cell)}`);
    if (cell.suppressed) {
      assert.deepEqual([bar.className, bar.fill, bar.shows], ['bar-suppressed', 'url("#hatch")', 'suppressed'], labelled(cell));
    } else {
      assert.match(bar.className, /^bar s\d$/);
      assert.equal(bar.shows, String(cell.value), labelled(cell));
      assert.ok(!bar.fill.startsWith('url(') && bar.height > 0, `${labelled(cell)}: ${JSON.stringify(bar)}`);
    }
  }
  const legend = await page.$$eval('#legend span', (spans) => spans.map((s) => s.textContent));
  assert.deepEqual(legend, ['18 to 24', '25 to 34', '35 to 49', '50 or older', `suppressed (fewer than k = ${table.k})`]);
  const ticks = await page.$$eval('#chart .tick-label', (texts) => texts.map((t) => Number(t.textContent)));
  const highest = Math.max(...inner.filter((c) => !c.suppressed).map((c) => c.value));
  assert.ok(ticks.length >= 3 && ticks[0] === 0 && ticks.at(-1) >= highest, `y axis ${ticks}`);
  assert.equal(await page.locator('#chart svg pattern#hatch').count(), 1);
  await page.screenshot({ path: join(shots, 'analyst-dashboard.png'), fullPage: true });

  // CSV: the same cells, suppressed ones marked in both columns.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  assert.equal(download.suggestedFilename(), 'aggregates.csv');
  const csv = csvRows(readFileSync(await download.path(), 'utf8'), dims);
  assert.deepEqual(csv.header, [...table.by, 'n', table.metric]);
  assert.equal(csv.rows.size, table.cells.length);
  for (const cell of table.cells) {
    const key = table.by.map((d) => cell.key[d]).join(' / ');
    const expected = cell.suppressed ? ['suppressed', 'suppressed'] : [String(cell.n), String(cell.value)];
    assert.deepEqual(csv.rows.get(key), expected, key);
  }
  assert.ok(requests.some((url) => url.includes('/aggregates?')), 'the requests were recorded');
  await done();
});

test('counts come with row and column percentages of the API\'s own totals, and weeks draw as lines', async () => {
  const { page, done } = await openDashboard();
  await page.selectOption('#form', 'outreach-contact');
  await page.selectOption('#by1', 'area');
  await page.selectOption('#by2', 'gender');
  await page.selectOption('#metric', 'count');
  await ask(page, '#run', '/aggregates?');
  const params = new URLSearchParams({ form: 'outreach-contact', by: 'area,gender', metric: 'count' });
  const table = await apiTable(params);
  const label = await labeller('outreach-contact');
  const n = (area, gender) => table.cells.find((c) => c.key.area === area && c.key.gender === gender)?.n;
  assert.deepEqual(await page.$$eval('#table thead th', (ths) => ths.map((th) => th.textContent)), ['Area', 'Gender', 'respondents', 'count', 'row %', 'column %']);
  const rows = await tableRows(page, 2);
  let checked = 0;
  for (const cell of table.cells.filter((c) => !c.suppressed && c.key.area !== '*' && c.key.gender !== '*')) {
    const row = rows.get(`${label('area', cell.key.area)} / ${label('gender', cell.key.gender)}`);
    const rowTotal = n(cell.key.area, '*');
    const columnTotal = n('*', cell.key.gender);
    assert.equal(row[2].text, `${((100 * cell.n) / rowTotal).toFixed(1)} %`);
    assert.equal(row[3].text, `${((100 * cell.n) / columnTotal).toFixed(1)} %`);
    checked += 1;
  }
  assert.ok(checked > 5, `${checked} cells checked`);
  await page.selectOption('#view', 'row');
  const bars = await chartBars(page);
  const some = table.cells.find((c) => !c.suppressed && c.key.area === 'north' && c.key.gender === 'f');
  assert.equal(bars.get(`north / ${label('gender', 'f')}`).shows, `${((100 * some.n) / n('north', '*')).toFixed(1)} %`);

  await page.selectOption('#by1', 'week');
  await page.selectOption('#by2', '');
  await ask(page, '#run', '/aggregates?');
  const weeks = await apiTable(new URLSearchParams({ form: 'outreach-contact', by: 'week', metric: 'count' }));
  assert.equal(await page.locator('#chart path.line').count(), 1, 'one line over the weeks');
  const points = await page.locator('#chart circle').count();
  assert.equal(points, weeks.cells.filter((c) => !c.suppressed && c.key.week !== '*').length);
  await page.screenshot({ path: join(shots, 'analyst-dashboard-weeks.png'), fullPage: true });

  // A supervisor approves 40 responses; "approved only" counts those and nothing else.
  const pending = await server.admin('GET', `/v1/datasets/${dataset}/reviews?form=outreach-contact&limit=40`);
  for (const { id } of pending.responses) {
    await server.admin('PUT', `/v1/datasets/${dataset}/responses/${id}/review`, { state: 'approved' });
  }
  await page.selectOption('#by1', 'area');
  await page.check('#approved-only');
  const approvedAsked = await ask(page, '#run', '/aggregates?');
  assert.equal(new URL(approvedAsked.url()).searchParams.get('review'), 'approved');
  const approved = await apiTable(new URLSearchParams({ form: 'outreach-contact', by: 'area', metric: 'count', review: 'approved' }));
  const total = approved.cells.find((c) => c.key.area === '*');
  assert.ok(!total.suppressed && Math.abs(total.n - 40) <= 5, `about 40 approved: ${JSON.stringify(total)}`);
  assert.equal((await tableRows(page, 1)).get('Total')[0].text, String(total.n));
  await done();
});

test('site tallies have their own tab, with the same protection and CSV', async () => {
  const { page, done } = await openDashboard();
  await page.click('#tab-tallies');
  assert.equal(await page.isVisible('#query'), false);
  await page.selectOption('#tally-by1', 'site');
  await page.selectOption('#tally-by2', 'month');
  await page.selectOption('#tally-metric', 'contacts');
  const asked = await ask(page, '#tally-run', '/tallies?');
  assert.deepEqual(sortedEntries(new URL(asked.url()).searchParams), [['by', 'site,month'], ['metric', 'contacts']]);
  const table = await api(`/v1/datasets/${dataset}/tallies?by=site,month&metric=contacts`);
  assert.ok(table.cells.some((c) => !c.suppressed), JSON.stringify(table));
  const rows = await tableRows(page, 2);
  assert.equal(rows.size, table.cells.length);
  for (const cell of table.cells) {
    const row = rows.get(`${cell.key.site === '*' ? 'Total' : cell.key.site} / ${cell.key.month === '*' ? 'Total' : cell.key.month}`);
    assert.ok(row, JSON.stringify(cell));
    assert.equal(row[0].text, cell.suppressed ? SUPPRESSED_TEXT : String(cell.n));
  }
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  assert.equal(download.suggestedFilename(), 'tallies.csv');
  assert.match(readFileSync(await download.path(), 'utf8'), /^site,month,n,contacts\r\n/);
  await page.screenshot({ path: join(shots, 'analyst-dashboard-tallies.png'), fullPage: true });
  await done();
});
