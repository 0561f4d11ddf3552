// A finished survey, read only: the answers to the questions that were asked, in the current
// language.

import { h } from './dom.js';
import { formTitle, optionId, questionTexts } from './form_text.js';
import { askedQuestions } from './form_pages.js';
import { say } from './words.js';

export function finishedView(form, response, top) {
  const asked = askedQuestions(form, response.answers);
  const rows = form.questions.filter((q) => q.type !== 'note' && asked.has(q.id)).map((q) => {
    const texts = questionTexts(q);
    const value = response.answers[q.id];
    let shown = '\u2014';
    if (value !== undefined) {
      if (q.type === 'single' || q.type === 'multi') {
        shown = [].concat(value).map((v) => texts.option(q.options.find((o) => optionId(o) === v) ?? v)).join(', ');
      } else if (q.type === 'likert' && texts.points.length) {
        shown = `${value} \u00b7 ${texts.points[value - 1]}`;
      } else shown = String(value);
    }
    return h('div', { class: 'answer', 'data-answer': q.id }, h('div', { class: 'answer-label' }, texts.label), h('div', {}, shown));
  });
  return h('section', { class: 'survey' },
    top,
    h('h2', {}, formTitle(form)),
    h('p', { class: 'badge done' }, response.waiting ? say('Finished \u00b7 waiting to send') : say('Finished \u00b7 sent')),
    h('div', { class: 'answer' }, h('div', { class: 'answer-label' }, say('Area')), h('div', {}, response.area)),
    h('div', { class: 'answer' }, h('div', { class: 'answer-label' }, say('Date of the contact')), h('div', {}, response.collected_on)),
    rows);
}
