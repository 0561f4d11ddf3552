// The language picker: every language the app or a form on the phone speaks, each named in
// itself. The choice is kept on the phone (language.js); `redraw` shows the screen again in it.

import { h } from './dom.js';
import { client } from './engine.js';
import { availableLanguages, bestOf, chooseLanguage, languageName } from './language.js';
import { say } from './words.js';

export function languageSwitch(redraw) {
  const tags = availableLanguages(client ? JSON.parse(client.formsJson()) : []);
  const shown = bestOf(tags) ?? 'en';
  document.documentElement.lang = shown;
  const select = h('select', {
    id: 'language',
    onchange: async () => {
      await chooseLanguage(select.value);
      redraw();
    },
  }, tags.map((tag) => h('option', { value: tag, selected: tag === shown, lang: tag }, languageName(tag))));
  return h('div', { class: 'language' }, h('label', { for: 'language' }, say('Language')), select);
}
