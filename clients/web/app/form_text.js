// A form's texts in the current language. Each text falls back on its own to the form's
// default language (the untranslated text), so a form translated only in part still shows
// every question.

import { currentLanguage, baseLanguage } from './language.js';

function translated(map) {
  if (!map) return undefined;
  const tag = currentLanguage();
  return map[tag] ?? map[baseLanguage(tag)];
}

export function formTitle(form) {
  return translated(form.title_translations) ?? form.title;
}

export function sectionLabel(section) {
  return translated(section.translations) ?? section.label;
}

export function optionId(choice) {
  return typeof choice === 'string' ? choice : choice.id;
}

// Every text of a question: label, hint, option labels by id, likert point labels (lowest
// first, none when the points show as numbers).
export function questionTexts(question) {
  const t = translated(question.translations);
  const texts = typeof t === 'string' ? { label: t } : (t ?? {});
  const baseOption = (choice) => (typeof choice === 'string' ? choice.replaceAll('_', ' ') : choice.label);
  const points = question.labels ?? [];
  return {
    label: texts.label ?? question.label,
    hint: texts.hint ?? question.hint,
    option: (choice) => texts.options?.[optionId(choice)] ?? baseOption(choice),
    points: points.map((p, i) => texts.points?.[i] ?? p),
  };
}
