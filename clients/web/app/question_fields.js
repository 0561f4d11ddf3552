// One input per question type, built from the question and its texts in the current
// language. Each field knows how to read a value from what is typed, where to show a problem,
// and how to empty itself when skip logic hides its question.

import { h } from './dom.js';
import { optionId, questionTexts } from './form_text.js';
import { say } from './words.js';

// `current` is the saved answer, or what was typed (text, even if not valid yet) when the
// screen is redrawn in another language.
export function questionField(question, current) {
  const id = `q-${question.id}`;
  const texts = questionTexts(question);
  const problemLine = h('p', { class: 'error' });
  const hint = texts.hint ? h('p', { class: 'hint' }, texts.hint) : null;
  const required = question.required ? h('span', { class: 'req' }, say(' (needed)')) : null;
  if (question.type === 'note') {
    const element = h('div', { class: 'question note', 'data-question': question.id, role: 'note' },
      h('p', { class: 'note-text' }, texts.label), hint);
    return { question, element, read: () => ({ value: undefined }), typed: () => undefined, clear() {}, setProblem() {}, showSaved: () => false };
  }
  const widget = WIDGETS[question.type] ?? textWidget;
  const { input, read, typed, clear } = widget(question, id, current, texts);
  const labelled = question.type === 'integer' || question.type === 'date' || question.type === 'text';
  const label = labelled
    ? h('label', { for: id }, texts.label, required)
    : h('legend', {}, texts.label, required);
  const element = h(labelled ? 'div' : 'fieldset', { class: 'question', 'data-question': question.id },
    label, hint, input,
    question.type === 'text' ? h('p', { class: 'hint' }, say('Do not write names, phone numbers or addresses.')) : null,
    problemLine);
  return {
    question,
    element,
    read,
    typed,
    clear,
    setProblem: (text) => {
      problemLine.textContent = text;
      element.classList.toggle('has-problem', Boolean(text));
    },
    // After a save, shows text as stored (scrubbed). Returns true when scrubbing changed it.
    showSaved: (stored) => {
      if (question.type !== 'text' || stored === undefined) return false;
      const changed = stored !== input.value.trim();
      input.value = stored;
      return changed;
    },
  };
}

function choiceWidget(question, id, current, texts) {
  const type = question.type === 'single' ? 'radio' : 'checkbox';
  const chosen = [].concat(current ?? []);
  const input = h('div', { class: 'choices' }, question.options.map((o) => h('label', { class: 'choice' },
    h('input', { type, name: id, value: optionId(o), checked: chosen.includes(optionId(o)) }), texts.option(o))));
  const picked = () => [...input.querySelectorAll('input:checked')].map((i) => i.value);
  return {
    input,
    read: () => {
      const values = picked();
      if (type === 'radio') return { value: values[0] };
      return { value: values.length ? values : undefined };
    },
    typed: () => (type === 'radio' ? picked()[0] : picked()),
    clear: () => input.querySelectorAll('input').forEach((i) => { i.checked = false; }),
  };
}

// Labelled points stack one under another (long labels stay readable); bare numbers sit in a row.
function likertWidget(question, id, current, texts) {
  const points = Array.from({ length: question.scale }, (_, i) => i + 1);
  const labelled = texts.points.length === question.scale;
  const options = h('div', { class: labelled ? 'choices' : 'likert' }, points.map((n) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: id, value: n, checked: current === n }),
    labelled ? texts.points[n - 1] : String(n))));
  const input = labelled ? options : h('div', {}, options, h('p', { class: 'hint' }, say('1 = least, {max} = most', { max: question.scale })));
  const picked = () => input.querySelector('input:checked');
  return {
    input,
    read: () => ({ value: picked() ? Number(picked().value) : undefined }),
    typed: () => (picked() ? Number(picked().value) : undefined),
    clear: () => { if (picked()) picked().checked = false; },
  };
}

function integerWidget(question, id, current) {
  const input = h('input', { type: 'text', inputmode: 'numeric', id, value: current ?? '', autocomplete: 'off' });
  return {
    input,
    read: () => {
      const text = input.value.trim();
      if (!text) return { value: undefined };
      if (!/^-?\d+$/.test(text)) return { problem: say('Enter a whole number, like 3.') };
      const n = Number(text);
      if (n < question.min || n > question.max) return { problem: say('Enter a number from {min} to {max}.', question) };
      return { value: n };
    },
    typed: () => input.value,
    clear: () => { input.value = ''; },
  };
}

function dateWidget(question, id, current) {
  const input = h('input', { type: 'date', id, value: current ?? '' });
  return { input, read: () => ({ value: input.value || undefined }), typed: () => input.value, clear: () => { input.value = ''; } };
}

function textWidget(question, id, current) {
  const max = question.max_len ?? 500;
  const input = h('textarea', { id, rows: 3, maxlength: max });
  input.value = current ?? '';
  return {
    input,
    read: () => {
      const text = input.value.trim();
      if (!text) return { value: undefined };
      if ([...text].length > max) return { problem: say('This is too long. Use at most {max} letters.', { max }) };
      return { value: text };
    },
    typed: () => input.value,
    clear: () => { input.value = ''; },
  };
}

const WIDGETS = { single: choiceWidget, multi: choiceWidget, likert: likertWidget, integer: integerWidget, date: dateWidget, text: textWidget };

// The area the contact happened in: the form's list of areas.
export function areaPicker(form, current) {
  const problemLine = h('p', { class: 'error' });
  const element = h('fieldset', { class: 'question', 'data-question': 'area' }, h('legend', {}, say('Area')),
    h('div', { class: 'choices' }, form.areas.map((area) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'area', value: area, checked: area === current }), area.replaceAll('_', ' ')))),
    problemLine);
  return {
    element,
    read: () => element.querySelector('input:checked')?.value,
    setProblem: (text) => {
      problemLine.textContent = text;
      element.classList.toggle('has-problem', Boolean(text));
    },
  };
}
