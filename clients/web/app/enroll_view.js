// Joining a project: the worker scans the QR code their coordinator shows, or types the code.
// Nothing about the worker is asked or stored; the server gives this phone its own sign-in.
// A phone whose sign-in expired joins again the same way and stays the same phone, so the
// work on it, sent or not, is kept and still goes out.

import { h } from './dom.js';
import { change, client, newClient } from './engine.js';
import { app, saveMeta, show } from './state.js';
import { httpProblem, say } from './words.js';
import { importFile } from './backup.js';
import { cameraAvailable, scanEnrollmentCode } from './qr_scan.js';
import { syncNow } from './sync.js';
import * as store from './store.js';

export function enrollView() {
  const message = h('p', { class: 'error', role: 'alert' });
  const restore = h('input', {
    type: 'file', accept: 'application/json,.json', id: 'restore-file',
    onchange: async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      try {
        await importFile(file);
        location.reload();
      } catch (error) {
        message.textContent = error.message;
      }
    },
  });
  return [
    app.meta.notice ? h('div', { class: 'notice', id: 'notice', role: 'status' }, app.meta.notice) : null,
    h('section', { class: 'card' },
      h('h2', {}, say('Set up this phone')),
      h('p', {}, say('Scan or type the code your coordinator gave you. You need internet for this step only.')),
      codeForm({ renew: false }),
      message,
      h('details', {}, h('summary', {}, say('Load a saved copy instead')),
        h('p', {}, say('If this phone lost its data, load the file you saved before.')), restore)),
  ];
}

// Shown on the main screen once the server refused this phone's sign-in as expired or revoked.
export function signInAgainCard() {
  const text = app.meta.signIn === 'expired'
    ? say('This phone\u2019s sign-in has expired. Your work is safe on this phone. Scan or type a new code from your coordinator to go on sending.')
    : say('Your coordinator signed this phone out. Your work is still on this phone: save a copy to a file (under \u201cMore\u201d), or join again with a new code if your coordinator gives you one.');
  return h('section', { class: 'card warning', id: 'sign-in-again' },
    h('h2', {}, say('Sign in again')), h('p', {}, text), codeForm({ renew: true }));
}

function codeForm({ renew }) {
  const message = h('p', { class: 'error', role: 'alert', id: 'enroll-error' });
  const input = h('input', {
    id: 'enroll-code', name: 'code', autocomplete: 'off', autocapitalize: 'characters',
    spellcheck: false, placeholder: 'ABCD-EFGH-JKLM-NPQR', required: true,
  });
  const button = h('button', { class: 'big primary', type: 'submit', id: 'enroll-button' }, renew ? say('Sign in again') : say('Join'));
  const label = button.textContent;
  const submit = async (event) => {
    event.preventDefault();
    message.textContent = '';
    button.disabled = true;
    button.textContent = say('Joining\u2026');
    try {
      await enroll(input.value.trim(), renew);
      show({ name: 'home', tab: 'surveys' });
      syncNow();
    } catch (error) {
      message.textContent = error.plain ?? error.message;
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  };
  const form = h('form', { onsubmit: submit }, h('label', { for: 'enroll-code' }, say('Code')), input, button);
  const scan = cameraAvailable()
    ? h('button', {
      class: 'big', type: 'button', id: 'scan-button',
      onclick: async () => {
        message.textContent = '';
        try {
          const code = await scanEnrollmentCode();
          if (!code) return;
          input.value = code;
          form.requestSubmit();
        } catch {
          message.textContent = say('The camera could not be opened. Type the code instead.');
        }
      },
    }, say('Scan the code'))
    : null;
  return [scan, form, message];
}

async function enroll(code, renew) {
  let response;
  try {
    response = await fetch('/v1/enroll', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      // The sign-in this phone holds makes it the same device again.
      body: JSON.stringify({ code, device_token: renew ? app.device.token : undefined }),
      cache: 'no-store',
    });
  } catch {
    throw { plain: say('No connection. You need internet to join.') };
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw { plain: httpProblem(response.status, body) };
  if (renew && client) {
    app.device = { ...app.device, token: body.token };
    app.meta.signIn = '';
    app.meta.lastError = '';
    await saveMeta();
  } else {
    app.device = { token: body.token, deviceId: body.device_id, dataset: body.dataset, epoch: body.epoch, mode: body.mode };
    await newClient(body.dataset, body.epoch);
    // Live data leaves the phone once sent; a demo dataset's trainees look back at theirs.
    await change((c) => c.setDeleteAfterSend(body.mode !== 'demo'));
    app.meta.notice = '';
    await saveMeta();
  }
  await store.put('device', app.device);
  app.storagePersisted = await store.askPersistent();
}
