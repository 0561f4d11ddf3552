// A phone withdrawn with a wipe (lost, or seized): the server answers its next sync with
// 401 `wiped`, and every document of the project on it is deleted, sent or not, with the
// sign-in and every copy the app kept. What it sent is safe on the server. As before a reset,
// the worker may first save unsent work to a file; unlike a reset, there is no "not now".

import { client, forgetClient } from './engine.js';
import { app, freshMeta, saveMeta } from './state.js';
import { askBeforeRemoving } from './remove_dialog.js';
import * as store from './store.js';
import { say } from './words.js';

export async function wipeThisPhone() {
  const unsent = client.pendingCount();
  if (unsent > 0) {
    await askBeforeRemoving({
      id: 'wipe-dialog',
      title: say('This phone was withdrawn'),
      lines: [
        say('Your coordinator removed this phone from the project. Everything the app holds on it will be deleted.'),
        say('{unsent} item(s) were never sent and will be lost.', { unsent }),
      ],
      remove: say('Delete everything'),
    });
  }
  await forgetClient();
  // The PIN goes too: there is nothing left to protect, and the next worker starts fresh.
  await store.eraseAll();
  app.device = null;
  app.meta = { ...freshMeta(), notice: say('The survey data on this phone was deleted at your coordinator\u2019s request.') };
  await saveMeta();
}
