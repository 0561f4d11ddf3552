// Saving the phone's data to a file and loading it back. Browser storage can be wiped (a
// cleared cache cost KoboToolbox users their offline data); a file the worker keeps is the
// way back. The file holds the device token too, so it can resume on a wiped browser: it must
// be kept as safely as the phone.
//
// A copy carries its dataset and epoch. The epoch moves on when a trainer resets a demo
// dataset, so a copy saved before a reset holds practice data the reset removed: the engine
// refuses to merge it (merged under the new epoch, the next send would bring it back to the
// server). Restored into a wiped browser instead, its first send meets the reset, which asks
// before removing anything and never sends it.

import { client, change, SurveyClient } from './engine.js';
import { app, saveMeta } from './state.js';
import * as store from './store.js';
import { today } from './dom.js';
import { safetyWords, say } from './words.js';

const FORMAT = 'survey-field-backup/1';

export function exportFile(bytes = client.save()) {
  const file = {
    format: FORMAT,
    saved_on: today(),
    dataset: client.datasetId(),
    epoch: client.epoch(),
    device: app.device,
    unsent: client.pendingCount(),
    state: toBase64(bytes),
  };
  const blob = new Blob([JSON.stringify(file)], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `survey-backup-${today()}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// Reads a backup file. Into an enrolled app of the same project, its documents are merged
// (nothing made since is lost); into a fresh app, it restores the device as it was.
export async function importFile(file) {
  let parsed;
  try {
    parsed = JSON.parse(await file.text());
  } catch {
    throw new Error(say('This file is not a saved copy from this app.'));
  }
  if (parsed?.format !== FORMAT || typeof parsed.state !== 'string') {
    throw new Error(say('This file is not a saved copy from this app.'));
  }
  const bytes = fromBase64(parsed.state);
  if (client) {
    let added;
    try {
      added = await change((c) => c.importState(bytes));
    } catch (error) {
      if (error.detail !== 'other_epoch') throw error;
      throw new Error(parsed.epoch > client.epoch() ? safetyWords.backupNewer : safetyWords.backupStale);
    }
    return say('Loaded. {added} new item(s) added. Anything not sent yet will go with the next send.', { added });
  }
  if (!parsed.device?.token) throw new Error(say('This file has no phone sign-in in it. Join with a code first, then load it.'));
  const restored = SurveyClient.load(bytes);
  app.device = parsed.device;
  await store.put('device', app.device);
  await store.put('state', restored.save());
  app.meta.order = [];
  await saveMeta();
  return null;
}

function toBase64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
