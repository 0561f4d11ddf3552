// The last page of a survey: what is still needed before it can be finished. Each missing
// answer is a button that goes back to its question.

import { h } from './dom.js';
import { say } from './words.js';

// `missing`: [{ id, label, problem?, go }]; `answered`: how many questions have an answer.
export function reviewContent(missing, answered) {
  const summary = missing.length === 0
    ? say('Everything needed is answered. You can finish.')
    : missing.length === 1
      ? say('1 answer still needed. Tap it to go there.')
      : say('{count} answers still needed. Tap one to go there.', { count: missing.length });
  return [
    h('h3', {}, say('Check before you finish')),
    h('p', { id: 'review-summary', class: missing.length ? 'error' : 'saved' }, summary),
    missing.length ? h('ul', { class: 'missing', id: 'missing-list' }, missing.map((m) => h('li', {},
      h('button', { type: 'button', class: 'row', 'data-jump': m.id, onclick: m.go },
        h('span', { class: 'row-title' }, m.label),
        m.problem ? h('span', { class: 'error' }, m.problem) : null)))) : null,
    h('p', { class: 'muted' }, say('{answered} questions answered.', { answered })),
  ];
}
