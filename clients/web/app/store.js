// IndexedDB, the only storage a browser keeps across restarts and offline days. One key-value
// store: `device` (token and dataset), `state` (the engine's bytes), `meta` (what the screen
// shows about syncing), `backup-before-reset`, and `pin` when the worker set a PIN.
//
// With a PIN every other value is sealed (app/pin_crypto.js) before it is written, and opened
// after it is read, with a key that lives in this page's memory only: someone holding the phone
// or a copy of the browser profile finds ciphertext. Every write, and every change of key, goes
// through one queue, so a value is never sealed with a key that was just replaced.

import { deriveKey, newSalt, open as openSealed, seal, isSealed, PBKDF2_ITERATIONS } from './pin_crypto.js';

const DB_NAME = 'survey-field';
const STORE = 'kv';
const PIN = 'pin';
const PIN_CHECK = 'survey-field-pin-check';

let dbPromise = null;
let key = null; // the CryptoKey while unlocked; null with no PIN or while locked
let queue = Promise.resolve();

function openDb() {
  dbPromise ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return dbPromise;
}

async function run(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    // 'strict' asks the browser to flush to disk before reporting success: a survey the app
    // says is saved must survive the battery dying a second later.
    const tx = db.transaction(STORE, mode, { durability: 'strict' });
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('storage write was aborted'));
  });
}

// One at a time, in order; a failed step (storage full) does not block the next.
function queued(work) {
  const next = queue.catch(() => {}).then(work);
  queue = next;
  return next;
}

const rawGet = (name) => run('readonly', (s) => s.get(name));

async function readAll() {
  const names = await run('readonly', (s) => s.getAllKeys());
  const values = await run('readonly', (s) => s.getAll());
  return names.map((name, i) => [name, values[i]]).filter(([name]) => name !== PIN);
}

export async function get(name) {
  const value = await rawGet(name);
  if (!isSealed(value)) return value;
  if (!key) throw new Error('the app is locked');
  return openSealed(key, value, name);
}

export const put = (name, value) => queued(async () => {
  if (!key && (await rawGet(PIN))) throw new Error('the app is locked');
  const stored = key ? await seal(key, value, name) : value;
  return run('readwrite', (s) => s.put(stored, name));
});

export const remove = (name) => queued(() => run('readwrite', (s) => s.delete(name)));

// --- PIN -------------------------------------------------------------------------------------

export async function hasPin() {
  return Boolean(await rawGet(PIN));
}

export const isLocked = async () => !key && hasPin();

// Derives the key from `pin` and keeps it if the PIN is right. Returns whether it was.
export async function unlock(pin) {
  const record = await rawGet(PIN);
  if (!record) return true;
  const candidate = await deriveKey(pin, record.salt, record.iterations);
  try {
    if ((await openSealed(candidate, record.check, PIN)) !== PIN_CHECK) return false;
  } catch {
    return false;
  }
  key = candidate;
  return true;
}

// Sets a PIN, changes it (`pin` is the new one; the app must be unlocked), or removes it
// (`pin` null). Every stored value is re-written under the new key (or in plain) in one
// transaction, together with the PIN record, so no moment has some values under each.
export const setPin = (pin) => queued(async () => {
  if (!key && (await rawGet(PIN))) throw new Error('the app is locked');
  const plain = [];
  for (const [name, value] of await readAll()) plain.push([name, isSealed(value) ? await openSealed(key, value, name) : value]);
  let next = null;
  let record = null;
  if (pin !== null) {
    const salt = newSalt();
    next = await deriveKey(pin, salt, PBKDF2_ITERATIONS);
    record = { salt, iterations: PBKDF2_ITERATIONS, check: await seal(next, PIN_CHECK, PIN) };
  }
  const rewritten = [];
  for (const [name, value] of plain) rewritten.push([name, next ? await seal(next, value, name) : value]);
  await run('readwrite', (s) => {
    for (const [name, value] of rewritten) s.put(value, name);
    return record ? s.put(record, PIN) : s.delete(PIN);
  });
  key = next;
});

// Everything this app keeps in the browser, the PIN record included: for a forgotten PIN and
// for a wipe.
export const eraseAll = () => queued(async () => {
  await run('readwrite', (s) => s.clear());
  key = null;
});

// Asks the browser not to evict our data under storage pressure. Returns true when granted.
export async function askPersistent() {
  if (!navigator.storage?.persist) return false;
  if (await navigator.storage.persisted()) return true;
  try {
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}
