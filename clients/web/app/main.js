// Start-up: one tab at a time, the quick-exit button, the PIN when one is set, load the engine
// and the saved state from IndexedDB (no network needed), register the service worker that
// keeps the app available offline, then draw.

import { h, replace } from './dom.js';
import { change, client, newClient, startEngine } from './engine.js';
import { app, loadAppState } from './state.js';
import { askPersistent, isLocked } from './store.js';
import { lockScreen } from './pin_view.js';
import { quickExitButton } from './quick_exit.js';
import { enrollView } from './enroll_view.js';
import { homeView, statusBar } from './home_view.js';
import { surveyView } from './survey_view.js';
import { syncNow, watchConnection } from './sync.js';
import { say } from './words.js';

const root = document.getElementById('app');

function render() {
  if (!app.device || !client) {
    if (root.dataset.view === 'enroll') return; // keep a half-typed code
    root.dataset.view = 'enroll';
    return replace(root, enrollView());
  }
  if (app.view.name === 'survey') {
    // A survey screen holds typed answers: redraw it only when navigating, never on a sync.
    if (root.dataset.view === 'survey' && root.dataset.key === viewKey()) return;
    root.dataset.view = 'survey';
    root.dataset.key = viewKey();
    return replace(root, surveyView(app.view));
  }
  // While the worker types (a new site's name), a sync finishing redraws the status only.
  const typing = root.dataset.view === 'home' && root.contains(document.activeElement)
    && ['INPUT', 'TEXTAREA'].includes(document.activeElement.tagName) && document.activeElement.type !== 'file';
  if (typing && !app.view.navigated) return root.querySelector('#sync-status')?.replaceWith(statusBar());
  app.view.navigated = false;
  root.dataset.view = 'home';
  replace(root, homeView());
}

function viewKey() {
  return `${app.view.formId ?? ''}/${app.view.responseId ?? ''}/${app.view.opened ?? ''}`;
}

async function start() {
  app.render = render;
  if (await isLocked()) await lockScreen(root);
  await loadAppState();
  await startEngine();
  if (app.device && !client) await newClient(app.device.dataset, app.device.epoch);
  if (client && client.deleteAfterSend() === undefined) await chooseDeleteAfterSend();
  app.storagePersisted = app.device ? await askPersistent() : true;
  render();
  watchConnection();
  if (app.device && navigator.onLine) syncNow();
}

// A phone enrolled before the server said the dataset's mode, or restored from such a file:
// a demo dataset keeps what was sent (trainees look back at it), anything else deletes it.
async function chooseDeleteAfterSend() {
  await change((c) => c.setDeleteAfterSend(app.device?.mode !== 'demo'));
}

// Two tabs with two engines would overwrite each other's saved state: the second tab waits.
async function startAlone() {
  if (!navigator.locks) return start();
  const waiting = setTimeout(() => replace(root, h('p', { class: 'card' },
    say('The app is already open in another tab or window. Close it, and this one will start.'))), 1500);
  // The returned promise settles only if start() fails, which then shows the error screen.
  return navigator.locks.request('survey-field-app', () => {
    clearTimeout(waiting);
    return start().then(() => new Promise(() => {})); // hold the lock while the page lives
  });
}

if ('serviceWorker' in navigator) {
  // updateViaCache 'none': the browser checks sw.js and its imported version file against the
  // server itself, so a new app version is noticed on the next start with signal.
  navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' }).catch(() => {});
}

// On every screen, the lock screen and the joining screen included.
document.querySelector('header.top')?.append(quickExitButton('quick-exit'));

startAlone().catch((error) => {
  replace(root, h('section', { class: 'card error' },
    h('h2', {}, say('The app could not start')),
    h('p', {}, String(error?.message ?? error)),
    h('p', {}, say('Your saved work is still on this phone. Try closing and opening the app again.'))));
});
