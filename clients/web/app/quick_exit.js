// Quick exit: one tap, and the app is gone from the screen and from the tab's history. For a
// worker near someone who must not see the survey. The page empties itself and its title at
// once (so nothing shows while the next page loads, or in the task switcher), then
// `location.replace` puts a neutral page in the app's place in the history, so the back button
// does not come back to it. Nothing is lost: everything is saved as it is typed, and with a PIN
// the app asks for it again when opened.
//
// What stays: the browser's own history list keeps the visit (a page cannot delete it; the
// app's title is neutral for that reason), and the service worker's cache keeps the app's code,
// which holds no survey data.

import { h } from './dom.js';
import { safetyWords as words } from './words.js';

// A page anyone might have open, on a site that has nothing to do with this app.
export const NEUTRAL_PAGE = 'https://www.google.com/';

export function quickExit() {
  document.title = '';
  for (const dialog of document.querySelectorAll('dialog')) dialog.remove();
  document.body.replaceChildren();
  location.replace(NEUTRAL_PAGE);
}

// `id` for the one in the header; dialogs, which make the header inert, carry their own.
export function quickExitButton(id) {
  return h('button', { class: 'quick-exit', id, type: 'button', onclick: quickExit }, words.quickExit);
}
