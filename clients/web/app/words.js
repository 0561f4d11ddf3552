// Plain words for everything the engine or the server can say. Field workers read these under
// stress, often in a second language: short sentences, what to do next, no codes.

const METRICS = {
  contacts: 'People met',
  kits: 'Kits given',
  leaflets: 'Leaflets given',
  referrals: 'Referrals made',
  hotline_cards: 'Hotline cards given',
};

export function metricLabel(metric) {
  return METRICS[metric] ?? metric.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());
}

export function questionLabel(question) {
  const lang = (navigator.language || 'en').split('-')[0];
  return question.translations?.[navigator.language] ?? question.translations?.[lang] ?? question.label;
}

export function optionId(choice) {
  return typeof choice === 'string' ? choice : choice.id;
}

export function optionLabel(choice) {
  return typeof choice === 'string' ? choice.replaceAll('_', ' ') : choice.label;
}

// A message for an engine error about one answer, in terms of the question it concerns.
export function answerProblem(error, question) {
  switch (error.detail) {
    case 'missing_answer':
      return 'Please answer this question.';
    case 'out_of_range':
      if (question?.type === 'likert') return `Choose a number from 1 to ${question.scale}.`;
      if (question?.type === 'integer') return `Enter a number from ${question.min} to ${question.max}.`;
      return 'This answer is outside the allowed range.';
    case 'wrong_answer_type':
      return question?.type === 'integer' ? 'Enter a whole number, like 3.' : 'This answer does not fit the question.';
    case 'unknown_option':
    case 'repeated_option':
      return 'Choose from the options shown.';
    case 'text_too_long':
      return `This is too long. Use at most ${question?.max_len ?? 500} letters.`;
    case 'unscrubbed_text':
      return 'Remove phone numbers, e-mail addresses and ID numbers from this answer.';
    default:
      return problem(error);
  }
}

// A message for any other error from the engine, the network or the server.
export function problem(error) {
  if (!error) return '';
  switch (error.detail) {
    case 'unknown_area':
      return 'Choose the area from the list.';
    case 'missing_field':
      if (/area/.test(error.message)) return 'Choose the area first.';
      if (/collected_on/.test(error.message)) return 'Choose the date first.';
      break;
    case 'bad_day':
      return 'Choose a real date.';
    case 'unscrubbed_text':
      return 'Remove phone numbers, e-mail addresses and ID numbers.';
    case 'bad_identifier':
      return 'Use a shorter name with letters and numbers.';
    case 'negative_tally':
      return 'Nothing to take off: this phone can take off only what it counted itself.';
    case 'engine_state':
      return 'This file is not a saved copy from this app.';
    case 'wrong_dataset':
      return 'This file belongs to another project and cannot be added here.';
    default:
      break;
  }
  return `Something went wrong: ${error.message}`;
}

// Server and network trouble during a sync or enrollment.
export function httpProblem(status, body) {
  if (status === 0) return 'No connection to the server. Your work is safe on this phone. Try again when you have signal.';
  if (status === 401 && body?.error === 'invalid_code') return 'This code did not work. Check it, or ask your coordinator for a new one.';
  if (status === 401 && body?.error === 'expired') return 'This phone\u2019s sign-in has expired. Your work is safe on this phone. Ask your coordinator for a new code and sign in again.';
  if (status === 409 && body?.error === 'device_revoked') return 'This phone was withdrawn from the project and cannot join it again as itself. Ask your coordinator.';
  if (status === 409 && body?.error === 'other_dataset') return 'This code is for another project than the work on this phone. Ask your coordinator for a code of this project.';
  if (status === 429) return 'Too many wrong codes were tried. Wait a minute, then try again.';
  if (status === 401) return 'This phone is no longer allowed to send. Ask your coordinator. Your work is safe on this phone.';
  if (status === 403) return 'This phone is not allowed to do that. Ask your coordinator.';
  if (status === 413) return 'Too much to send at once. Ask your coordinator for help.';
  if (status >= 500) return 'The server has a problem. Your work is safe on this phone. Try again later.';
  return `The server said no (${body?.message ?? status}). Your work is safe on this phone.`;
}
