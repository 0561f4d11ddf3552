// Filling one survey: the area, the day, then every question of the form. Works entirely
// offline; every save goes through the engine (which checks the answers exactly as the server
// will) and lands in IndexedDB before "Saved" is shown.

import { h, today } from './dom.js';
import { client, change } from './engine.js';
import { app, saveMeta, show } from './state.js';
import { answerProblem, optionId, optionLabel, problem, questionLabel } from './words.js';

export function surveyView({ formId, responseId }) {
  const existing = responseId ? JSON.parse(client.responseJson(responseId)) : null;
  const forms = JSON.parse(client.formsJson());
  const form = existing
    ? forms.find((f) => f.id === existing.form && f.version === existing.form_version) ?? forms.find((f) => f.id === existing.form)
    : forms.find((f) => f.id === formId);
  if (!form) return h('section', { class: 'card' }, h('p', {}, 'This survey is not on the phone yet. Send and update first.'), backButton());
  if (existing?.status === 'submitted') return finishedView(form, existing);

  let currentId = responseId ?? null;
  let answered = new Set(Object.keys(existing?.answers ?? {}));
  const summary = h('div', { class: 'error', role: 'alert', id: 'form-errors' });
  const status = h('p', { class: 'saved', role: 'status', id: 'form-status' });
  const fields = form.questions.map((q) => questionField(q, existing?.answers?.[q.id]));
  const areaField = areaPicker(form, existing?.area);
  const dayField = h('input', { type: 'date', id: 'collected-on', value: existing?.collected_on ?? today(), max: today() });

  const save = async (submit) => {
    summary.textContent = '';
    status.textContent = '';
    for (const f of [areaField, ...fields]) f.setProblem('');
    const problems = [];
    const answers = {};
    const cleared = [];
    for (const f of fields) {
      const { value, problem: p } = f.read();
      if (p) problems.push([f, p]);
      else if (value === undefined) {
        if (answered.has(f.question.id)) cleared.push(f.question.id);
        if (submit && f.question.required) problems.push([f, 'Please answer this question.']);
      } else answers[f.question.id] = value;
    }
    const area = areaField.read();
    if (!area) problems.push([areaField, 'Choose the area.']);
    if (!dayField.value) problems.push([null, 'Choose the date.']);
    if (problems.length) return showProblems(problems);
    const edit = JSON.stringify({ area, collected_on: dayField.value, answers, cleared, submit });
    try {
      await change((c) => {
        if (currentId) c.editResponse(currentId, edit);
        else currentId = c.createResponse(form.id, edit);
      });
    } catch (error) {
      const field = fields.find((f) => f.question.id === error.question);
      if (field) return showProblems([[field, answerProblem(error, field.question)]]);
      const aboutArea = error.detail === 'unknown_area' || (error.detail === 'missing_field' && /area/.test(error.message));
      return showProblems([[aboutArea ? areaField : null, problem(error)]]);
    }
    if (!app.meta.order.includes(currentId)) {
      app.meta.order.push(currentId);
      await saveMeta();
    }
    const saved = JSON.parse(client.responseJson(currentId));
    answered = new Set(Object.keys(saved.answers));
    const scrubbed = fields.some((f) => f.question.type === 'text' && f.showSaved(saved.answers[f.question.id]));
    if (submit) {
      app.meta.notice = scrubbed
        ? 'Survey finished and saved on this phone. Some details (like phone numbers) were hidden to protect the person.'
        : 'Survey finished and saved on this phone. It will be sent next time you send.';
      await saveMeta();
      show({ name: 'home', tab: 'surveys' });
      return;
    }
    status.textContent = scrubbed
      ? 'Draft saved. Some details (like phone numbers) were hidden to protect the person.'
      : 'Draft saved on this phone.';
  };

  const showProblems = (problems) => {
    for (const [field, text] of problems) if (field) field.setProblem(text);
    const general = problems.filter(([f]) => !f).map(([, t]) => t);
    summary.replaceChildren(
      h('strong', {}, problems.length === 1 ? '1 thing needs your attention.' : `${problems.length} things need your attention.`),
      ...general.map((t) => h('div', {}, t)));
    (problems.find(([f]) => f)?.[0]?.element ?? summary).scrollIntoView({ block: 'center' });
  };

  return h('form', { class: 'survey', id: 'survey-form', onsubmit: (e) => e.preventDefault() },
    backButton(),
    h('h2', {}, form.title),
    summary,
    areaField.element,
    h('div', { class: 'question' }, h('label', { for: 'collected-on' }, 'Date of the contact'), dayField),
    fields.map((f) => f.element),
    h('div', { class: 'actions' },
      status,
      h('button', { type: 'button', class: 'big', id: 'save-draft', onclick: () => save(false) }, 'Save draft'),
      h('button', { type: 'button', class: 'big primary', id: 'finish', onclick: () => save(true) }, 'Finish')));
}

function backButton() {
  return h('button', { type: 'button', class: 'back', onclick: () => show({ name: 'home', tab: 'surveys' }) }, '\u2190 Back to list');
}

function areaPicker(form, current) {
  const problemLine = h('p', { class: 'error' });
  const element = h('fieldset', { class: 'question', 'data-question': 'area' }, h('legend', {}, 'Area'),
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

// One question: its input, how to read a value from it, and where to show a problem.
function questionField(question, current) {
  const id = `q-${question.id}`;
  const problemLine = h('p', { class: 'error' });
  const hint = question.hint ? h('p', { class: 'hint' }, question.hint) : null;
  let input;
  let read;
  switch (question.type) {
    case 'single':
    case 'multi': {
      const type = question.type === 'single' ? 'radio' : 'checkbox';
      const chosen = [].concat(current ?? []);
      input = h('div', { class: 'choices' }, question.options.map((o) => h('label', { class: 'choice' },
        h('input', { type, name: id, value: optionId(o), checked: chosen.includes(optionId(o)) }), optionLabel(o))));
      read = () => {
        const values = [...input.querySelectorAll('input:checked')].map((i) => i.value);
        if (type === 'radio') return { value: values[0] };
        return { value: values.length ? values : undefined };
      };
      break;
    }
    case 'likert': {
      const points = Array.from({ length: question.scale }, (_, i) => i + 1);
      input = h('div', { class: 'likert' },
        points.map((n) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: id, value: n, checked: current === n }), String(n))));
      const ends = h('p', { class: 'hint' }, `1 = least, ${question.scale} = most`);
      input = h('div', {}, input, ends);
      read = () => {
        const picked = input.querySelector('input:checked');
        return { value: picked ? Number(picked.value) : undefined };
      };
      break;
    }
    case 'integer': {
      input = h('input', { type: 'text', inputmode: 'numeric', id, value: current ?? '', autocomplete: 'off' });
      read = () => {
        const text = input.value.trim();
        if (!text) return { value: undefined };
        if (!/^-?\d+$/.test(text)) return { problem: 'Enter a whole number, like 3.' };
        const n = Number(text);
        if (n < question.min || n > question.max) return { problem: `Enter a number from ${question.min} to ${question.max}.` };
        return { value: n };
      };
      break;
    }
    case 'date': {
      input = h('input', { type: 'date', id, value: current ?? '' });
      read = () => ({ value: input.value || undefined });
      break;
    }
    default: {
      const max = question.max_len ?? 500;
      input = h('textarea', { id, rows: 3, maxlength: max, value: current ?? '' });
      input.value = current ?? '';
      read = () => {
        const text = input.value.trim();
        if (!text) return { value: undefined };
        if ([...text].length > max) return { problem: `This is too long. Use at most ${max} letters.` };
        return { value: text };
      };
    }
  }
  const label = question.type === 'integer' || question.type === 'date' || question.type === 'text'
    ? h('label', { for: id }, questionLabel(question), question.required ? h('span', { class: 'req' }, ' (needed)') : null)
    : h('legend', {}, questionLabel(question), question.required ? h('span', { class: 'req' }, ' (needed)') : null);
  const element = h(label.tagName === 'LEGEND' ? 'fieldset' : 'div', { class: 'question', 'data-question': question.id },
    label, hint, input, question.type === 'text' ? h('p', { class: 'hint' }, 'Do not write names, phone numbers or addresses.') : null, problemLine);
  return {
    question,
    element,
    read,
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

function finishedView(form, response) {
  const rows = form.questions.map((q) => {
    const value = response.answers[q.id];
    let shown = '\u2014';
    if (value !== undefined) {
      if (q.type === 'single' || q.type === 'multi') {
        shown = [].concat(value).map((v) => optionLabel(q.options.find((o) => optionId(o) === v) ?? v)).join(', ');
      } else shown = String(value);
    }
    return h('div', { class: 'answer' }, h('div', { class: 'answer-label' }, questionLabel(q)), h('div', {}, shown));
  });
  return h('section', { class: 'survey' },
    backButton(),
    h('h2', {}, form.title),
    h('p', { class: 'badge done' }, response.waiting ? 'Finished \u00b7 waiting to send' : 'Finished \u00b7 sent'),
    h('div', { class: 'answer' }, h('div', { class: 'answer-label' }, 'Area'), h('div', {}, response.area)),
    h('div', { class: 'answer' }, h('div', { class: 'answer-label' }, 'Date of the contact'), h('div', {}, response.collected_on)),
    rows);
}
