// Asked before work that was never sent is removed from the phone: when a trainer resets
// practice data, and when a coordinator withdraws the phone with a wipe. The worker can save a
// copy to a file first. Resolves true to remove, false for "not now" (offered only when
// `later` names that button: a wipe has no "not now").

import { h } from './dom.js';
import { exportFile } from './backup.js';
import { quickExitButton } from './quick_exit.js';
import { say } from './words.js';

export function askBeforeRemoving({ id, title, lines, remove, later }) {
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    // A modal dialog makes the page behind it inert, the header's quick exit included.
    const dialog = h('dialog', { class: 'dialog', id },
      quickExitButton(),
      h('h2', {}, title),
      lines.map((line) => h('p', {}, line)),
      h('p', {}, say('If you need them, save a copy to a file first.')),
      h('button', { class: 'big', onclick: () => exportFile() }, say('Save a copy to a file')),
      h('button', { class: 'big danger', onclick: () => done(true) }, remove),
      later ? h('button', { class: 'big plain', onclick: () => done(false) }, later) : null);
    // Escape would close the dialog without an answer: it must be one of the buttons.
    dialog.addEventListener('cancel', (event) => event.preventDefault());
    document.body.append(dialog);
    dialog.showModal();
  });
}
