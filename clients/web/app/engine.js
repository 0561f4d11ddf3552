// The engine (sync-core compiled to wasm) and its persistence: every change is written to
// IndexedDB before the app says it is saved, so a reload or a closed tab loses nothing.

import init, { SurveyClient, maxSyncRounds } from '../pkg/survey_wasm.js';
import * as store from './store.js';

export let client = null;
let writes = Promise.resolve();

export async function startEngine() {
  await init();
  const bytes = await store.get('state');
  client = bytes ? SurveyClient.load(bytes) : null;
  return client;
}

export function newClient(dataset, epoch) {
  client = new SurveyClient(dataset, epoch);
  return persist();
}

export function replaceClient(next) {
  client = next;
  return persist();
}

// Runs `change` on the engine and persists the result. Writes are chained so an older state
// can never land after a newer one.
export async function change(work) {
  const result = work(client);
  await persist();
  return result;
}

// Drops the engine and its saved state, after any write still under way (which would
// otherwise land after the removal).
export async function forgetClient() {
  client = null;
  await writes.catch(() => {});
  await store.remove('state');
}

export function persist() {
  const bytes = client.save();
  // A failed write (storage full) must not block every later one: each write starts fresh.
  writes = writes.catch(() => {}).then(() => store.put('state', bytes));
  return writes;
}

export { SurveyClient, maxSyncRounds };
