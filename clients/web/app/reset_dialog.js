// Asked before a reset would remove work that was never sent. Resets only happen on practice
// (demo) data, but a trainee's real-looking work still deserves a way out.

import { h } from './dom.js';
import { exportFile } from './backup.js';

export function askResetChoice(unsent) {
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const dialog = h('dialog', { class: 'dialog', id: 'reset-dialog' },
      h('h2', {}, 'Practice data was reset'),
      h('p', {}, `Your trainer started fresh practice data. ${unsent} item(s) on this phone were not sent and will be removed.`),
      h('p', {}, 'If you need them, save a copy to a file first.'),
      h('button', { class: 'big', onclick: () => exportFile() }, 'Save a copy to a file'),
      h('button', { class: 'big danger', onclick: () => done(true) }, 'Remove them and continue'),
      h('button', { class: 'big plain', onclick: () => done(false) }, 'Not now'));
    document.body.append(dialog);
    dialog.showModal();
  });
}
