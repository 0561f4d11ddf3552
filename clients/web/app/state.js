// What the screen shows, besides the engine: the device's enrollment, sync status kept across
// restarts, and the view the user is on. Views read it; `render()` redraws after a change.

import * as store from './store.js';

// signIn: '' while the token works, 'expired' or 'revoked' once the server said so.
export function freshMeta() {
  return { lastSync: 0, lastError: '', order: [], notice: '', signIn: '' };
}

export const app = {
  device: null, // { token, deviceId, dataset, epoch }
  meta: freshMeta(),
  syncing: false,
  storagePersisted: true,
  view: { name: 'home', tab: 'surveys' },
  render: () => {},
};

export async function loadAppState() {
  app.device = (await store.get('device')) ?? null;
  app.meta = { ...app.meta, ...((await store.get('meta')) ?? {}) };
}

export function saveMeta() {
  return store.put('meta', app.meta);
}

export function show(view) {
  app.view = { ...view, navigated: true };
  app.render();
  window.scrollTo(0, 0);
}
