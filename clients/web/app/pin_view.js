// The PIN's screens: the lock screen the app shows first when a PIN is set, and the card on
// "More" that sets, changes or removes it (app/store.js does the encryption).

import { h } from './dom.js';
import * as store from './store.js';
import { safetyWords as words } from './words.js';

const MIN_PIN = 6;

function pinInput(id, label) {
  return [
    h('label', { for: id }, label),
    h('input', { type: 'password', id, autocomplete: 'off', inputmode: 'numeric', maxlength: '64' }),
  ];
}

// Resolves once the right PIN was typed (or everything was erased, after which the page
// reloads into the joining screen).
export function lockScreen(root) {
  return new Promise((resolve) => {
    const message = h('p', { class: 'error', role: 'alert', id: 'unlock-error' });
    const button = h('button', { class: 'big primary', type: 'submit', id: 'unlock-button' }, words.unlock);
    const form = h('form', {
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        message.textContent = '';
        const input = form.querySelector('#unlock-pin');
        const right = await store.unlock(input.value);
        input.value = '';
        button.disabled = false;
        if (right) resolve();
        else message.textContent = words.pinWrong;
      },
    }, pinInput('unlock-pin', words.unlockTitle), button, message);
    root.replaceChildren(h('section', { class: 'card', id: 'lock-screen' },
      h('h2', {}, words.unlockTitle), form,
      h('details', {}, h('summary', {}, words.forgotTitle),
        h('p', {}, words.forgotLines),
        h('button', {
          class: 'big danger', id: 'forgot-erase',
          onclick: async () => {
            await store.eraseAll();
            location.reload();
          },
        }, words.forgotErase))));
    form.querySelector('#unlock-pin').focus();
  });
}

// The card on "More". With no PIN: set one. With one: change it or remove it, each after
// typing the current one (a phone left open should not let anyone change it).
export async function pinCard() {
  const card = h('article', { class: 'card', id: 'pin-card' }, h('h2', {}, words.pinTitle));
  const message = h('p', { role: 'status', id: 'pin-message' });
  const has = await store.hasPin();
  const form = h('form', {
    onsubmit: async (event) => {
      event.preventDefault();
      const value = (id) => form.querySelector(`#${id}`)?.value ?? '';
      const action = event.submitter?.dataset.action ?? 'set';
      if (has && !(await store.unlock(value('pin-current')))) {
        message.textContent = words.pinWrong;
        return;
      }
      if (action !== 'remove') {
        if (value('pin-new').length < MIN_PIN) {
          message.textContent = words.pinTooShort;
          return;
        }
        if (value('pin-new') !== value('pin-repeat')) {
          message.textContent = words.pinMismatch;
          return;
        }
      }
      for (const button of form.querySelectorAll('button')) button.disabled = true;
      await store.setPin(action === 'remove' ? null : value('pin-new'));
      const done = action === 'remove' ? words.pinRemoved : words.pinDone;
      card.replaceWith(await pinCard());
      document.querySelector('#pin-message').textContent = done;
    },
  },
  has ? pinInput('pin-current', words.pinCurrent) : null,
  pinInput('pin-new', words.pinNew),
  pinInput('pin-repeat', words.pinRepeat),
  h('button', { class: 'big', type: 'submit', id: 'pin-save', 'data-action': 'set' }, has ? words.pinChange : words.pinSet),
  has ? h('button', { class: 'big plain', type: 'submit', id: 'pin-remove', 'data-action': 'remove', formnovalidate: true }, words.pinRemove) : null);
  card.append(
    h('p', {}, has ? words.pinIsSet : words.pinNone),
    h('p', { class: 'warning', id: 'pin-warning' }, words.pinWarning),
    form, message);
  return card;
}
