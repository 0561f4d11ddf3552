// Withdrawing a response from the phone: the worker confirms, the engine deletes it at once
// and keeps its id, and the server is told (`DELETE /v1/datasets/{id}/responses/{response}`)
// now or at the next send. 200 and 404 (the server never had it) both settle it.

import { h } from './dom.js';
import { client, change } from './engine.js';
import { app } from './state.js';
import { httpProblem, safetyWords as words } from './words.js';
import { quickExitButton } from './quick_exit.js';

export function confirmWithdraw() {
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const dialog = h('dialog', { class: 'dialog', id: 'withdraw-dialog' },
      quickExitButton(),
      h('h2', {}, words.withdrawTitle),
      words.withdrawLines.map((line) => h('p', {}, line)),
      h('button', { class: 'big danger', id: 'withdraw-confirm', onclick: () => done(true) }, words.withdrawConfirm),
      h('button', { class: 'big plain', id: 'withdraw-cancel', onclick: () => done(false) }, words.cancel));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// Returns true when the response was withdrawn here.
export async function withdrawResponse(id) {
  if (!(await confirmWithdraw())) return false;
  await change((c) => c.withdrawResponse(id));
  app.meta.order = app.meta.order.filter((o) => o !== id);
  app.meta.notice = words.withdrawn;
  return true;
}

// Tells the server of every withdrawal it has not confirmed. Throws like a sync round does.
export async function sendWithdrawals() {
  for (const id of JSON.parse(client.withdrawalsJson())) {
    let response;
    try {
      response = await fetch(`/v1/datasets/${app.device.dataset}/responses/${id}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${app.device.token}` },
        cache: 'no-store',
      });
    } catch {
      throw Object.assign(new Error('network'), { plain: httpProblem(0) });
    }
    if (response.ok || response.status === 404) {
      await change((c) => c.withdrawalSent(id));
      continue;
    }
    const body = await response.json().catch(() => null);
    throw Object.assign(new Error(`HTTP ${response.status}`), {
      plain: httpProblem(response.status, body), status: response.status, code: body?.error,
    });
  }
}
