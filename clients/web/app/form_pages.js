// A form as pages: one per section (questions outside any section make a page of their own
// between them), in form order. What is asked is never decided here: the engine (sync-core's
// one evaluator of `relevant` rules, through the wasm wrapper) says which questions the
// answers so far call for, exactly as the server will check them.

import { client } from './engine.js';

export function pagesOf(form) {
  const pages = [];
  for (const question of form.questions) {
    const section = question.section ?? null;
    const last = pages[pages.length - 1];
    if (last && last.sectionId === section) last.questions.push(question);
    else pages.push({ sectionId: section, section: form.sections?.find((s) => s.id === section), questions: [question] });
  }
  return pages;
}

// The ids of the questions (and notes) asked given `answers` (question id to value; values
// that are not valid answers count as unanswered).
export function askedQuestions(form, answers) {
  return new Set(JSON.parse(client.relevantQuestions(form.id, form.version, JSON.stringify(answers))));
}
