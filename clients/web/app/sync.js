// Moving documents to and from the server: withdrawals first, then one stateless POST /v3/sync
// per round (/v2/sync or /v1/sync for a server that predates it), repeated while the engine says
// there is more. Runs on the Send button and when the phone gets signal. With delete after send
// on, the engine deletes each finished response the server confirmed as it applies the reply.

import { client, change, persist, maxSyncRounds } from './engine.js';
import { app, saveMeta } from './state.js';
import { httpProblem, say } from './words.js';
import { askBeforeRemoving } from './remove_dialog.js';
import { wipeThisPhone } from './wipe.js';
import { sendWithdrawals } from './withdraw.js';
import * as store from './store.js';

const ROUND_TIMEOUT_MS = 60_000;

export async function syncNow() {
  if (app.syncing || !app.device || !client) return;
  app.syncing = true;
  app.render();
  try {
    await sendWithdrawals();
    for (let round = 0; round < maxSyncRounds(); round++) {
      const reply = await exchange();
      let info = JSON.parse(client.applySyncResponse(reply, false));
      if (info.reset && !info.applied) {
        if (!(await acceptReset())) {
          app.meta.lastError = say('Not updated: the practice data was reset, and you chose to keep this phone\u2019s copy for now.');
          return;
        }
        info = await change((c) => JSON.parse(c.applySyncResponse(reply, true)));
        app.meta.notice = say('Your trainer reset the practice data. This phone now has the fresh practice data.');
        app.meta.order = [];
      }
      await persist();
      if (!client.needsSync()) break;
    }
    app.meta.lastSync = Date.now();
    app.meta.lastError = '';
    app.meta.signIn = '';
  } catch (error) {
    if (error.status === 401 && error.code === 'wiped') {
      await wipeThisPhone();
      return;
    }
    // An expired or revoked sign-in: the home screen asks for a new code, and keeps the work.
    if (error.status === 401) app.meta.signIn = error.code === 'expired' ? 'expired' : 'revoked';
    app.meta.lastError = error.plain ?? say('Sending failed: {reason}. Your work is safe on this phone.', { reason: error.message });
  } finally {
    app.syncing = false;
    await saveMeta();
    app.render();
  }
}

async function exchange() {
  for (;;) {
    // Small rounds, of the engine's size (the CLI's too): on a weak mobile link a failed round
    // wastes little, and the next one resumes.
    const response = await postSync(client.syncPath(), client.buildSyncRequest());
    // A server older than this app has no route for its protocol: speak the older one.
    if (response.status === 404 && client.useOlderProtocol()) continue;
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw Object.assign(new Error(`HTTP ${response.status}`), {
        plain: httpProblem(response.status, body), status: response.status, code: body?.error,
      });
    }
    return new Uint8Array(await response.arrayBuffer());
  }
}

async function postSync(path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ROUND_TIMEOUT_MS);
  try {
    return await fetch(path, {
      method: 'POST',
      headers: { Authorization: `Bearer ${app.device.token}`, 'Content-Type': 'application/cbor' },
      body,
      signal: controller.signal,
      cache: 'no-store',
    });
  } catch {
    throw Object.assign(new Error('network'), { plain: httpProblem(0) });
  } finally {
    clearTimeout(timer);
  }
}

// The server only resets demo (training) datasets. Still, unsent work is never dropped
// silently: a copy of the whole state is kept first, and the user can save it to a file.
async function acceptReset() {
  await store.put('backup-before-reset', client.save());
  const unsent = client.pendingCount();
  if (unsent === 0) return true;
  return askBeforeRemoving({
    id: 'reset-dialog',
    title: say('Practice data was reset'),
    lines: [say('Your trainer started fresh practice data. {unsent} item(s) on this phone were not sent and will be removed.', { unsent })],
    remove: say('Remove them and continue'),
    later: say('Not now'),
  });
}

export function watchConnection() {
  window.addEventListener('online', () => syncNow());
  window.addEventListener('offline', () => app.render());
}
