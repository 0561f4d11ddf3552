// Backups, phone safety and phone facts: save unsent work to a file, load it back, delete
// surveys after sending, the PIN, whether the browser promised to keep the data, choose the
// app's language.

import { h } from './dom.js';
import { client, change } from './engine.js';
import { pinCard } from './pin_view.js';
import { app } from './state.js';
import { exportFile, importFile } from './backup.js';
import { problem, safetyWords, say } from './words.js';
import { languageSwitch } from './language_switch.js';

export function moreTab() {
  const message = h('p', { role: 'status', id: 'backup-message' });
  const picker = h('input', {
    type: 'file', accept: 'application/json,.json', id: 'import-file',
    onchange: async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      try {
        message.textContent = (await importFile(file)) ?? say('Loaded.');
        app.render();
      } catch (error) {
        message.textContent = error.detail ? problem(error) : error.message;
      }
    },
  });
  const unsent = client.pendingCount();
  return h('section', {},
    h('article', { class: 'card' },
      h('h2', {}, say('Save a copy to a file')),
      h('p', {}, unsent ? say('{unsent} item(s) are not sent yet. A file keeps them safe if the phone loses its data.', { unsent }) : say('Everything is sent. You can still save a copy.')),
      h('p', { class: 'muted' }, say('The file contains survey answers and this phone\u2019s sign-in. Keep it private and delete it once the work is sent.')),
      h('button', { class: 'big', id: 'export-button', onclick: () => exportFile() }, say('Save a copy to a file'))),
    h('article', { class: 'card' },
      h('h2', {}, say('Load a saved copy')),
      h('p', {}, say('Adds the surveys and counts from a saved file to this phone. Nothing on the phone is removed.')),
      picker, message),
    h('article', { class: 'card', id: 'after-send-card' },
      h('h2', {}, safetyWords.deleteAfterSendTitle),
      h('label', { class: 'choice' },
        h('input', {
          type: 'checkbox', id: 'delete-after-send', checked: client.deleteAfterSend() === true,
          onchange: async (event) => {
            await change((c) => c.setDeleteAfterSend(event.target.checked));
            app.render();
          },
        }),
        ' ', safetyWords.deleteAfterSendOn),
      h('p', { class: 'muted' }, safetyWords.deleteAfterSendHelp)),
    pinSlot(),
    h('article', { class: 'card' },
      h('h2', {}, say('This phone')),
      languageSwitch(() => app.render()),
      h('p', {}, app.storagePersisted ? say('The browser has promised to keep this app\u2019s data.') : say('The browser has NOT promised to keep this app\u2019s data. Send often.')),
      h('p', { class: 'muted' }, say('Phone ID: {id}', { id: app.device.deviceId?.slice(0, 8) ?? '?' }))));
}

// The PIN card reads the store first; it takes its place when ready.
function pinSlot() {
  const slot = h('div', { id: 'pin-slot' });
  pinCard().then((card) => slot.replaceWith(card));
  return slot;
}
