// Joining and leaving, in headless Chromium against the real survey-server binary (issue 19):
// the QR image the server draws for a code is read by the app, from pixels and through a
// (fake) camera; a phone whose sign-in expired joins again and its unsent survey still
// arrives; a phone withdrawn with a wipe offers to save its unsent work, then deletes
// everything, while what it sent stays on the server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, watchPolicyViolations } from './chromium.mjs';
import { startSurveyServer } from './survey_server.mjs';
import { PHONE } from './field_phone.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(process.env.SCREENSHOT_DIR ?? join(here, '../../../target/screenshots'));
const FORM = {
  id: 'contact', version: 1, title: 'Contact log', areas: ['north', 'south'],
  questions: [{ id: 'met', type: 'integer', label: 'People met', min: 0, max: 50, required: true }],
};

let server;
let browser;
const scratch = mkdtempSync(join(tmpdir(), 'enrollment-test-'));
const policyViolations = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startSurveyServer(process.env.SURVEY_SERVER_BIN);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function project(name) {
  const dataset = (await server.admin('POST', '/v1/datasets', { name, mode: 'live', k: 5 })).id;
  await server.admin('POST', `/v1/datasets/${dataset}/forms`, FORM);
  return dataset;
}

function issueCode(dataset, uses = 2) {
  return server.admin('POST', `/v1/datasets/${dataset}/enrollments`, { label: 'phones', uses, expires_in_hours: 1 });
}

async function phone(name, on = browser) {
  const context = await on.newContext(PHONE);
  const violations = watchPolicyViolations(context);
  context.on('close', () => policyViolations.push(...violations.map((v) => `[${name}] ${v}`)));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`# [${name}] page error: ${error.message}`));
  return { context, page };
}

async function enroll(page, code) {
  await page.goto(server.origin);
  await page.fill('#enroll-code', code);
  await page.click('#enroll-button');
  await page.waitForSelector(`button[data-form="${FORM.id}"]`, { timeout: 30_000 });
}

async function sync(page) {
  await page.click('#sync-button');
  await page.waitForFunction(() => !document.querySelector('#sync-button')?.disabled, null, { timeout: 30_000 });
}

async function fillSurvey(page, met) {
  await page.click(`button[data-form="${FORM.id}"]`);
  await page.check('input[name="area"][value="north"]');
  await page.fill('#q-met', String(met));
  await page.click('#next-page'); // to the review page
  await page.click('#finish');
  await page.waitForSelector('#response-list');
}

// The server's SVG drawn on a canvas of `width` x `height` (white, the code centred), in a
// blank page: the app's pages may not load `data:` images, and need not.
async function drawQr(svg, width, height) {
  const page = await browser.newPage();
  const drawn = await page.evaluate(async ({ svg, width, height }) => {
    const image = new Image();
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, height);
    const side = Math.min(width, height) * 0.8;
    context.drawImage(image, (width - side) / 2, (height - side) / 2, side, side);
    const pixels = context.getImageData(0, 0, width, height);
    return { width, height, data: Array.from(pixels.data) };
  }, { svg, width, height });
  await page.close();
  return drawn;
}

// `frames` copies of an RGBA image as an uncompressed YUV 4:2:0 video (full-range BT.601, as
// `C420jpeg` says).
function y4m({ width, height, data }, frames) {
  const byte = (v) => Math.min(255, Math.max(0, Math.round(v)));
  const luma = Buffer.alloc(width * height);
  const chroma = [Buffer.alloc((width / 2) * (height / 2)), Buffer.alloc((width / 2) * (height / 2))];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      luma[y * width + x] = byte(0.299 * r + 0.587 * g + 0.114 * b);
      if (x % 2 === 0 && y % 2 === 0) {
        const j = (y / 2) * (width / 2) + x / 2;
        chroma[0][j] = byte(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        chroma[1][j] = byte(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, ...chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  return Buffer.concat([header, ...Array(frames).fill(frame)]);
}

test('the QR image the server draws for a code is read back by the app', async () => {
  const dataset = await project('QR from pixels');
  const issued = await issueCode(dataset);
  assert.match(issued.qr_svg, /^<svg[\s\S]*<\/svg>$/);
  const drawn = await drawQr(issued.qr_svg, 320, 320);
  const { context, page } = await phone('reader');
  await page.goto(server.origin);
  await page.waitForSelector('#enroll-code');
  const read = await page.evaluate(async ({ width, height, data }) => {
    const { readQr, enrollmentCode } = await import('/app/qr_scan.js');
    const text = await readQr(new ImageData(new Uint8ClampedArray(data), width, height));
    return { text, code: enrollmentCode(text), decoder: typeof self.jsQR === 'function' ? 'jsQR' : 'BarcodeDetector' };
  }, drawn);
  assert.equal(read.code, issued.code, `read ${JSON.stringify(read)}`);
  console.log(`# the QR code was read by ${read.decoder}`);
  assert.equal(await page.evaluate(async () => (await import('/app/qr_scan.js')).enrollmentCode('https://example.org/x')), null);
  await context.close();
});

test('a phone joins by pointing its camera at the code', async () => {
  const dataset = await project('QR through the camera');
  const issued = await issueCode(dataset);
  const drawn = await drawQr(issued.qr_svg, 640, 480);
  // Chromium's fake camera plays a Y4M file, looping: the same frame, a few times.
  const video = join(scratch, 'qr.y4m');
  writeFileSync(video, y4m(drawn, 5));
  const withCamera = await launchChromium([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
  try {
    const { context, page } = await phone('camera', withCamera);
    await context.grantPermissions(['camera'], { origin: server.origin });
    await page.goto(server.origin);
    await page.click('#scan-button');
    await page.waitForSelector('#scan-dialog');
    await page.screenshot({ path: join(shots, '21-scanning.png') });
    await page.waitForSelector(`button[data-form="${FORM.id}"]`, { timeout: 30_000 });
    assert.equal(await page.locator('#scan-dialog').count(), 0, 'the camera dialog closed');
    const hex = dataset.replaceAll('-', '');
    assert.equal(server.sql(`SELECT count(*) FROM devices WHERE dataset = X'${hex}'`), '1');
    await context.close();
  } finally {
    await withCamera.close();
  }
});

test('a phone whose sign-in expired joins again and its unsent survey still arrives', async () => {
  const dataset = await project('Expiry');
  const { code } = await issueCode(dataset);
  const { context, page } = await phone('expired');
  await enroll(page, code);
  await fillSurvey(page, 3);
  await sync(page);
  await context.setOffline(true);
  await fillSurvey(page, 4);
  const hex = dataset.replaceAll('-', '');
  server.sqlWrite(`UPDATE tokens SET expires_at = 0 WHERE dataset = X'${hex}' AND role = 'device'`);

  // Back online: the automatic sync meets the expired sign-in.
  await context.setOffline(false);
  await page.waitForSelector('#sign-in-again', { timeout: 30_000 });
  assert.match(await page.locator('#sign-in-again').textContent(), /sign-in has expired/);
  assert.match(await page.locator('#pending-count').textContent(), /1 waiting to send/);
  await page.screenshot({ path: join(shots, '22-sign-in-again.png'), fullPage: true });

  const fresh = (await issueCode(dataset)).code;
  await page.fill('#sign-in-again #enroll-code', fresh);
  await page.click('#sign-in-again #enroll-button');
  await page.waitForSelector('#sign-in-again', { state: 'detached', timeout: 30_000 });
  await page.waitForFunction(() => /Everything is sent/.test(document.querySelector('#pending-count')?.textContent ?? ''), null, { timeout: 30_000 });
  assert.equal(server.sql(`SELECT count(*) FROM responses WHERE dataset = X'${hex}'`), '2');
  assert.equal(server.sql(`SELECT count(*) FROM devices WHERE dataset = X'${hex}'`), '1', 'still the same phone');
  assert.equal(server.sql(`SELECT count(DISTINCT owner) FROM documents WHERE dataset = X'${hex}' AND kind = 'response'`), '1');
  await context.close();
});

test('a phone withdrawn with a wipe offers to save its unsent work, then deletes everything', async () => {
  const dataset = await project('Wipe');
  const { code } = await issueCode(dataset);
  const { context, page } = await phone('wiped');
  await enroll(page, code);
  await fillSurvey(page, 5);
  await sync(page);
  await context.setOffline(true);
  await fillSurvey(page, 6);

  const devices = await server.admin('GET', `/v1/datasets/${dataset}/devices`);
  assert.equal(devices.length, 1);
  assert.equal(devices[0].documents, 1);
  await server.admin('POST', `/v1/devices/${devices[0].id}/revoke`, { wipe: true });

  // Back online: the automatic sync meets the wipe.
  await context.setOffline(false);
  await page.waitForSelector('#wipe-dialog', { timeout: 30_000 });
  assert.match(await page.locator('#wipe-dialog').textContent(), /1 item\(s\) were never sent/);
  assert.equal(await page.locator('#wipe-dialog button:has-text("Not now")').count(), 0, 'a wipe cannot wait');
  await page.screenshot({ path: join(shots, '23-wipe-dialog.png') });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('#wipe-dialog button:has-text("Save a copy to a file")'),
  ]);
  const copy = join(scratch, 'unsent.json');
  await download.saveAs(copy);
  await page.click('#wipe-dialog button:has-text("Delete everything")');
  await page.waitForSelector('#enroll-code');
  assert.match(await page.locator('#notice').textContent(), /deleted at your coordinator/);
  const kept = await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('survey-field');
    open.onsuccess = () => {
      const keys = open.result.transaction('kv').objectStore('kv').getAllKeys();
      keys.onsuccess = () => resolve(keys.result);
    };
  }));
  assert.deepEqual(kept, ['meta'], 'nothing but the notice is left on the phone');
  await page.reload();
  await page.waitForSelector('#enroll-code');
  assert.equal(await page.locator('#response-list').count(), 0);
  await page.screenshot({ path: join(shots, '24-wiped.png'), fullPage: true });
  const hex = dataset.replaceAll('-', '');
  assert.equal(server.sql(`SELECT count(*) FROM responses WHERE dataset = X'${hex}'`), '1', 'what it sent stays on the server');
  await context.close();
});

test('no page tripped the server\'s Content-Security-Policy', () => {
  assert.deepEqual(policyViolations, []);
});
