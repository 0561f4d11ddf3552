// Filling one survey, a page per section: the area and the day first, then the form's pages
// with back and next, then a review page that lists what is still needed before Finish.
// Questions appear and disappear as answers change, as the engine decides (form_pages.js); an
// answer to a question that disappears is emptied and never saved. Works entirely offline;
// every save goes through the engine (which checks the answers exactly as the server will)
// and lands in IndexedDB before "Saved" is shown.

import { h, replace, today } from './dom.js';
import { client, change } from './engine.js';
import { app, saveMeta, show } from './state.js';
import { askedQuestions, pagesOf } from './form_pages.js';
import { formTitle, questionTexts, sectionLabel } from './form_text.js';
import { finishedView } from './finished_view.js';
import { languageSwitch } from './language_switch.js';
import { areaPicker, questionField } from './question_fields.js';
import { reviewContent } from './review_view.js';
import { answerProblem, problem, say } from './words.js';

const REVIEW = 'review';

export function surveyView({ formId, responseId }) {
  const existing = responseId ? JSON.parse(client.responseJson(responseId)) : null;
  const forms = JSON.parse(client.formsJson());
  const form = existing
    ? forms.find((f) => f.id === existing.form && f.version === existing.form_version) ?? forms.find((f) => f.id === existing.form)
    : forms.find((f) => f.id === formId);
  const root = h('div', { class: 'survey-screen' });
  const redraw = () => root.replaceWith(surveyView({ formId, responseId }));
  if (!form) {
    replace(root, h('section', { class: 'card' }, h('p', {}, say('This survey is not on the phone yet. Send and update first.')), topBar(redraw)));
    return root;
  }
  if (existing?.status === 'submitted') {
    replace(root, finishedView(form, existing, topBar(redraw)));
    return root;
  }
  const screen = new SurveyScreen(form, existing, responseId ?? null);
  replace(root, screen.element);
  return root;
}

function topBar(redraw) {
  return h('div', { class: 'survey-top' },
    h('button', { type: 'button', class: 'back', onclick: () => show({ name: 'home', tab: 'surveys' }) }, say('\u2190 Back to list')),
    languageSwitch(redraw));
}

class SurveyScreen {
  constructor(form, existing, responseId) {
    this.form = form;
    this.pages = pagesOf(form);
    this.responseId = responseId;
    this.answered = new Set(Object.keys(existing?.answers ?? {}));
    this.element = h('form', { class: 'survey', id: 'survey-form', onsubmit: (e) => e.preventDefault() });
    this.element.addEventListener('input', () => this.refresh());
    this.element.addEventListener('change', () => this.refresh());
    this.draw({ answers: existing?.answers ?? {}, area: existing?.area, day: existing?.collected_on ?? today(), page: 0 });
  }

  // Builds every page from `typed` (answers, or text typed so far), showing `typed.page`. A
  // language change draws again from what is on the screen, so nothing typed is lost.
  draw(typed) {
    this.fields = this.form.questions.map((q) => questionField(q, typed.answers[q.id]));
    this.areaField = areaPicker(this.form, typed.area);
    this.dayField = h('input', { type: 'date', id: 'collected-on', value: typed.day ?? '', max: today() });
    this.summary = h('div', { class: 'error', role: 'alert', id: 'form-errors' });
    this.status = h('p', { class: 'saved', role: 'status', id: 'form-status' });
    this.progress = h('p', { class: 'muted', id: 'page-progress' });
    const contact = [this.areaField.element, h('div', { class: 'question' }, h('label', { for: 'collected-on' }, say('Date of the contact')), this.dayField)];
    this.pageElements = this.pages.map((page, i) => {
      const fields = this.fields.filter((f) => page.questions.includes(f.question));
      // The area and the day go on the first page, after its opening notes (the consent
      // wording comes before anything is written down).
      const notes = i === 0 ? fields.findIndex((f) => f.question.type !== 'note') : 0;
      const at = notes < 0 ? fields.length : notes;
      return h('section', { class: 'page', 'data-page': i, 'data-section': page.sectionId ?? '' },
        page.section ? h('h3', { class: 'section-label' }, sectionLabel(page.section)) : null,
        fields.slice(0, at).map((f) => f.element),
        i === 0 ? contact : null,
        fields.slice(at).map((f) => f.element));
    });
    this.review = h('section', { class: 'page review', id: 'review' });
    this.backButton = h('button', { type: 'button', class: 'big', id: 'prev-page', onclick: () => this.previous() }, say('Back'));
    this.nextButton = h('button', { type: 'button', class: 'big primary', id: 'next-page', onclick: () => this.next() }, say('Next'));
    this.finishButton = h('button', { type: 'button', class: 'big primary', id: 'finish', onclick: () => this.finish() }, say('Finish'));
    replace(this.element,
      topBar(() => this.redrawInLanguage()),
      h('h2', {}, formTitle(this.form)),
      this.progress,
      this.summary,
      this.pageElements,
      this.review,
      h('div', { class: 'actions' },
        this.status,
        this.backButton, this.nextButton, this.finishButton,
        h('button', { type: 'button', class: 'big wide', id: 'save-draft', onclick: () => this.save(false) }, say('Save draft'))));
    this.refresh();
    this.goTo(typed.page);
  }

  redrawInLanguage() {
    const answers = {};
    for (const f of this.fields) {
      const value = f.typed();
      if (value !== undefined && value !== '') answers[f.question.id] = value;
    }
    this.draw({ answers, area: this.areaField.read(), day: this.dayField.value, page: this.page });
  }

  // The valid answers on the screen, by question id.
  answers() {
    const answers = {};
    for (const f of this.fields) {
      const { value } = f.read();
      if (value !== undefined) answers[f.question.id] = value;
    }
    return answers;
  }

  // Shows what the answers call for; empties what they no longer do.
  refresh() {
    this.asked = askedQuestions(this.form, this.answers());
    for (const f of this.fields) {
      const shown = this.asked.has(f.question.id);
      if (!shown) {
        f.clear();
        f.setProblem('');
      }
      f.element.hidden = !shown;
    }
    this.visible = this.pages.map((page, i) => i === 0 || page.questions.some((q) => this.asked.has(q.id)));
    if (this.page !== undefined) this.goTo(this.page);
  }

  visiblePages() {
    return this.pages.map((_, i) => i).filter((i) => this.visible[i]);
  }

  goTo(page) {
    // A page the answers hid shows the nearest one before it.
    let target = page;
    while (target !== REVIEW && target > 0 && !this.visible[target]) target -= 1;
    const moved = target !== this.page;
    this.page = target;
    this.pageElements.forEach((el, i) => { el.hidden = i !== target; });
    this.review.hidden = target !== REVIEW;
    const visible = this.visiblePages();
    const place = target === REVIEW ? visible.length + 1 : visible.indexOf(target) + 1;
    this.progress.textContent = say('Page {page} of {pages}', { page: place, pages: visible.length + 1 });
    this.backButton.disabled = target === 0;
    this.nextButton.hidden = target === REVIEW;
    this.nextButton.textContent = target === visible[visible.length - 1] ? say('Review') : say('Next');
    this.finishButton.hidden = target !== REVIEW;
    if (target === REVIEW) this.showReview();
    if (moved) window.scrollTo(0, 0);
  }

  next() {
    if (this.page === REVIEW) return;
    const here = this.fields.filter((f) => this.pages[this.page].questions.includes(f.question));
    const problems = here.filter((f) => !f.element.hidden).map((f) => [f, f.read().problem]).filter(([, p]) => p);
    this.clearProblems();
    if (problems.length) return this.showProblems(problems);
    this.goTo(this.visiblePages().find((i) => i > this.page) ?? REVIEW);
  }

  previous() {
    this.clearProblems();
    const visible = this.visiblePages();
    this.goTo(this.page === REVIEW ? visible[visible.length - 1] : [...visible].reverse().find((i) => i < this.page) ?? 0);
  }

  pageOf(field) {
    return this.pages.findIndex((page) => page.questions.includes(field.question));
  }

  // Goes to a question's page and puts it in view, ready to answer.
  jumpTo(field, pageIndex = this.pageOf(field)) {
    this.goTo(pageIndex);
    field.element.scrollIntoView({ block: 'center' });
    field.element.querySelector('input, textarea')?.focus({ preventScroll: true });
  }

  // What stands between this survey and Finish: the area, the day, every required question
  // asked and unanswered, and every answer that does not fit its question.
  missing() {
    const missing = [];
    if (!this.areaField.read()) missing.push({ id: 'area', label: say('Area'), go: () => this.jumpTo(this.areaField, 0) });
    if (!this.dayField.value) missing.push({ id: 'collected-on', label: say('Date of the contact'), go: () => this.jumpTo({ element: this.dayField.parentElement }, 0) });
    for (const f of this.fields) {
      if (!this.asked.has(f.question.id)) continue;
      const { value, problem: p } = f.read();
      if (p || (value === undefined && f.question.required)) {
        missing.push({ id: f.question.id, label: questionTexts(f.question).label, problem: p, go: () => this.jumpTo(f) });
      }
    }
    return missing;
  }

  showReview() {
    const missing = this.missing();
    replace(this.review, reviewContent(missing, Object.keys(this.answers()).length));
    return missing;
  }

  finish() {
    this.clearProblems();
    if (this.showReview().length) {
      this.summary.replaceChildren(h('strong', {}, say('The survey cannot be finished yet: answer what is listed first.')));
      return;
    }
    this.save(true);
  }

  clearProblems() {
    this.summary.textContent = '';
    this.status.textContent = '';
    for (const f of [this.areaField, ...this.fields]) f.setProblem('');
  }

  async save(submit) {
    this.clearProblems();
    const problems = [];
    const answers = {};
    for (const f of this.fields) {
      if (!this.asked.has(f.question.id)) continue;
      const { value, problem: p } = f.read();
      if (p) problems.push([f, p]);
      else if (value !== undefined) answers[f.question.id] = value;
    }
    // Emptied on the screen, or hidden by an answer: removed from the saved response.
    const cleared = [...this.answered].filter((id) => !(id in answers));
    const area = this.areaField.read();
    if (!area) problems.push([this.areaField, say('Choose the area.')]);
    if (!this.dayField.value) problems.push([null, say('Choose the date.')]);
    if (problems.length) return this.showProblems(problems);
    const edit = JSON.stringify({ area, collected_on: this.dayField.value, answers, cleared, submit });
    try {
      await change((c) => {
        if (this.responseId) c.editResponse(this.responseId, edit);
        else this.responseId = c.createResponse(this.form.id, edit);
      });
    } catch (error) {
      const field = this.fields.find((f) => f.question.id === error.question);
      if (field) return this.showProblems([[field, answerProblem(error, field.question)]]);
      const aboutArea = error.detail === 'unknown_area' || (error.detail === 'missing_field' && /area/.test(error.message));
      return this.showProblems([[aboutArea ? this.areaField : null, problem(error)]]);
    }
    if (!app.meta.order.includes(this.responseId)) {
      app.meta.order.push(this.responseId);
      await saveMeta();
    }
    const saved = JSON.parse(client.responseJson(this.responseId));
    this.answered = new Set(Object.keys(saved.answers));
    const scrubbed = this.fields.some((f) => f.question.type === 'text' && f.showSaved(saved.answers[f.question.id]));
    if (submit) {
      app.meta.notice = scrubbed
        ? say('Survey finished and saved on this phone. Some details (like phone numbers) were hidden to protect the person.')
        : say('Survey finished and saved on this phone. It will be sent next time you send.');
      await saveMeta();
      show({ name: 'home', tab: 'surveys' });
      return;
    }
    this.status.textContent = scrubbed
      ? say('Draft saved. Some details (like phone numbers) were hidden to protect the person.')
      : say('Draft saved on this phone.');
  }

  // Marks each problem at its question, and goes to the page of the first.
  showProblems(problems) {
    for (const [field, text] of problems) if (field) field.setProblem(text);
    const general = problems.filter(([f]) => !f).map(([, t]) => t);
    this.summary.replaceChildren(
      h('strong', {}, problems.length === 1 ? say('1 thing needs your attention.') : say('{count} things need your attention.', { count: problems.length })),
      ...general.map((t) => h('div', {}, t)));
    const first = problems.find(([f]) => f)?.[0];
    if (first) this.jumpTo(first, first === this.areaField ? 0 : this.pageOf(first));
    else this.summary.scrollIntoView({ block: 'center' });
  }
}
