// First start: the worker types the code their coordinator gave them. Nothing about the worker
// is asked or stored; the server gives this phone its own sign-in.

import { h } from './dom.js';
import { newClient } from './engine.js';
import { app, show } from './state.js';
import { httpProblem } from './words.js';
import { importFile } from './backup.js';
import { syncNow } from './sync.js';
import * as store from './store.js';

export function enrollView() {
  const message = h('p', { class: 'error', role: 'alert' });
  const input = h('input', {
    id: 'enroll-code', name: 'code', autocomplete: 'off', autocapitalize: 'characters',
    spellcheck: false, placeholder: 'ABCD-EFGH-JKLM-NPQR', required: true,
  });
  const button = h('button', { class: 'big primary', type: 'submit', id: 'enroll-button' }, 'Join');
  const submit = async (event) => {
    event.preventDefault();
    message.textContent = '';
    button.disabled = true;
    button.textContent = 'Joining\u2026';
    try {
      await enroll(input.value.trim());
      show({ name: 'home', tab: 'surveys' });
      syncNow();
    } catch (error) {
      message.textContent = error.plain ?? error.message;
    } finally {
      button.disabled = false;
      button.textContent = 'Join';
    }
  };
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
  return h('section', { class: 'card' },
    h('h2', {}, 'Set up this phone'),
    h('p', {}, 'Type the code your coordinator gave you. You need internet for this step only.'),
    h('form', { onsubmit: submit },
      h('label', { for: 'enroll-code' }, 'Code'), input, button),
    message,
    h('details', {}, h('summary', {}, 'Load a saved copy instead'),
      h('p', {}, 'If this phone lost its data, load the file you saved before.'), restore));
}

async function enroll(code) {
  let response;
  try {
    response = await fetch('/v1/enroll', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code }),
      cache: 'no-store',
    });
  } catch {
    throw { plain: 'No connection. You need internet to set up the phone the first time.' };
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw { plain: httpProblem(response.status, body) };
  app.device = { token: body.token, deviceId: body.device_id, dataset: body.dataset, epoch: body.epoch };
  await newClient(body.dataset, body.epoch);
  await store.put('device', app.device);
  app.storagePersisted = await store.askPersistent();
}
