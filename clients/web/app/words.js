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

// --- Phone safety: quick exit, PIN, withdrawal, delete after send, backups across a reset ---

export const safetyWords = {
  quickExit: 'Quick exit',
  sent: (n) => `${n} sent`,
  withdraw: 'Withdraw',
  withdrawTitle: 'Withdraw this survey?',
  withdrawLines: [
    'Do this when the person takes back their answers, or the survey was made by mistake.',
    'The answers are deleted from this phone now, and from the server the next time the phone sends. This cannot be undone.',
  ],
  withdrawConfirm: 'Withdraw and delete',
  cancel: 'Cancel',
  withdrawn: 'The survey was withdrawn and deleted from this phone.',
  deleteAfterSendTitle: 'Finished surveys after sending',
  deleteAfterSendOn: 'Delete them from this phone once the server has them (only a count stays)',
  deleteAfterSendHelp: 'A phone that holds less puts you and the people you met at less risk if it is lost or taken. Drafts and anything not yet sent always stay.',
  pinTitle: 'PIN',
  pinWarning: 'If you forget the PIN, nothing can open the data on this phone: surveys not yet sent are lost. Send often.',
  pinNone: 'No PIN is set: anyone who can open this phone\u2019s browser can read the surveys on it.',
  pinIsSet: 'A PIN is set: the surveys on this phone are stored encrypted, and the app asks for the PIN when it opens.',
  pinNew: 'New PIN (at least 6 digits or letters)',
  pinRepeat: 'The new PIN again',
  pinCurrent: 'Current PIN',
  pinSet: 'Set PIN',
  pinChange: 'Change PIN',
  pinRemove: 'Remove PIN',
  pinTooShort: 'Use at least 6 digits or letters.',
  pinMismatch: 'The two PINs are not the same.',
  pinWrong: 'That PIN is not right.',
  pinDone: 'Done. The data on this phone is now encrypted with the new PIN.',
  pinRemoved: 'The PIN was removed. The data on this phone is no longer encrypted.',
  unlockTitle: 'Enter your PIN',
  unlock: 'Open',
  forgotTitle: 'Forgot the PIN?',
  forgotLines: 'Nothing can open the data without it. You can delete everything the app holds on this phone and join again with a new code; surveys not yet sent are lost.',
  forgotErase: 'Delete everything on this phone',
  backupStale: 'This copy was saved before your trainer reset the practice data. Its practice surveys are out of date, so nothing from it was added or will be sent.',
  backupNewer: 'This copy is newer than this phone\u2019s data. Press \u201cSend and update\u201d first, then load it again.',
};
