// IndexedDB, the only storage a browser keeps across restarts and offline days. One key-value
// store: `device` (token and dataset), `state` (the engine's bytes), `meta` (what the screen
// shows about syncing), `backup-before-reset`.

const DB_NAME = 'survey-field';
const STORE = 'kv';

let dbPromise = null;

function open() {
  dbPromise ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return dbPromise;
}

async function run(mode, work) {
  const db = await open();
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

export const get = (key) => run('readonly', (s) => s.get(key));
export const put = (key, value) => run('readwrite', (s) => s.put(value, key));
export const remove = (key) => run('readwrite', (s) => s.delete(key));

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
