// The language the app speaks: the worker's choice, kept on the phone with the sync status
// (IndexedDB, so "delete everything" removes it too), else the phone's own language. Forms are
// shown in it where they are translated; the app's own words in it where words.js has them.

import { app, saveMeta } from './state.js';

// Languages the app's own words are written in (words.js).
export const APP_LANGUAGES = ['en', 'es'];

export function currentLanguage() {
  return app.meta.language || (navigator.language || 'en').toLowerCase();
}

// The primary subtag: `es-MX` speaks `es` where no `es-MX` text exists.
export function baseLanguage(tag) {
  return tag.split('-')[0];
}

export async function chooseLanguage(tag) {
  app.meta.language = tag;
  document.documentElement.lang = tag;
  await saveMeta();
}

// A language's name in that language ("español"), so a worker finds theirs whatever is shown.
export function languageName(tag) {
  try {
    const name = new Intl.DisplayNames([tag], { type: 'language' }).of(tag);
    return name ? name.charAt(0).toLocaleUpperCase(tag) + name.slice(1) : tag;
  } catch {
    return tag;
  }
}

// Every language the phone can show: the app's own, and each one a form on it is written or
// translated in.
export function availableLanguages(forms = []) {
  const tags = new Set(APP_LANGUAGES);
  for (const form of forms) {
    if (form.default_language) tags.add(form.default_language);
    for (const tag of Object.keys(form.title_translations ?? {})) tags.add(tag);
    for (const item of [...(form.sections ?? []), ...form.questions]) {
      for (const tag of Object.keys(item.translations ?? {})) tags.add(tag);
    }
  }
  return [...tags].sort();
}

// The one of `tags` that best fits the current language: itself, else its primary subtag.
export function bestOf(tags) {
  const wanted = currentLanguage();
  return tags.find((t) => t === wanted) ?? tags.find((t) => t === baseLanguage(wanted));
}
