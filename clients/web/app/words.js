// Plain words for everything the engine or the server can say. Field workers read these under
// stress, often in a second language: short sentences, what to do next, no codes.
//
// Every sentence is written in English in the code and passed through `say`, which looks it
// up in the catalogue of the current language (gettext's way: the English text is the key, so
// a sentence not translated yet still shows, in English). `{name}` marks a value put in.

import { baseLanguage, currentLanguage } from './language.js';

export function say(english, values = {}) {
  const tag = currentLanguage();
  const catalogue = CATALOGUES[tag] ?? CATALOGUES[baseLanguage(tag)];
  const text = catalogue?.[english] ?? english;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

const METRICS = {
  contacts: 'People met',
  kits: 'Kits given',
  leaflets: 'Leaflets given',
  referrals: 'Referrals made',
  hotline_cards: 'Hotline cards given',
};

export function metricLabel(metric) {
  return METRICS[metric] ? say(METRICS[metric]) : metric.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());
}

// A message for an engine error about one answer, in terms of the question it concerns.
export function answerProblem(error, question) {
  switch (error.detail) {
    case 'missing_answer':
      return say('Please answer this question.');
    case 'out_of_range':
      if (question?.type === 'likert') return say('Choose a number from 1 to {max}.', { max: question.scale });
      if (question?.type === 'integer') return say('Enter a number from {min} to {max}.', question);
      return say('This answer is outside the allowed range.');
    case 'wrong_answer_type':
      return question?.type === 'integer' ? say('Enter a whole number, like 3.') : say('This answer does not fit the question.');
    case 'unknown_option':
    case 'repeated_option':
      return say('Choose from the options shown.');
    case 'text_too_long':
      return say('This is too long. Use at most {max} letters.', { max: question?.max_len ?? 500 });
    case 'unscrubbed_text':
      return say('Remove phone numbers, e-mail addresses and ID numbers from this answer.');
    case 'irrelevant_answer':
      return say('This question is not asked after the answers before it.');
    default:
      return problem(error);
  }
}

// A message for any other error from the engine, the network or the server.
export function problem(error) {
  if (!error) return '';
  switch (error.detail) {
    case 'unknown_area':
      return say('Choose the area from the list.');
    case 'missing_field':
      if (/area/.test(error.message)) return say('Choose the area first.');
      if (/collected_on/.test(error.message)) return say('Choose the date first.');
      break;
    case 'bad_day':
      return say('Choose a real date.');
    case 'unscrubbed_text':
      return say('Remove phone numbers, e-mail addresses and ID numbers.');
    case 'bad_identifier':
      return say('Use a shorter name with letters and numbers.');
    case 'negative_tally':
      return say('Nothing to take off: this phone can take off only what it counted itself.');
    case 'engine_state':
      return say('This file is not a saved copy from this app.');
    case 'wrong_dataset':
      return say('This file belongs to another project and cannot be added here.');
    default:
      break;
  }
  return say('Something went wrong: {message}', { message: error.message });
}

// Server and network trouble during a sync or enrollment.
export function httpProblem(status, body) {
  if (status === 0) return say('No connection to the server. Your work is safe on this phone. Try again when you have signal.');
  if (status === 401 && body?.error === 'invalid_code') return say('This code did not work. Check it, or ask your coordinator for a new one.');
  if (status === 401 && body?.error === 'expired') return say('This phone\u2019s sign-in has expired. Your work is safe on this phone. Ask your coordinator for a new code and sign in again.');
  if (status === 409 && body?.error === 'device_revoked') return say('This phone was withdrawn from the project and cannot join it again as itself. Ask your coordinator.');
  if (status === 409 && body?.error === 'other_dataset') return say('This code is for another project than the work on this phone. Ask your coordinator for a code of this project.');
  if (status === 429) return say('Too many wrong codes were tried. Wait a minute, then try again.');
  if (status === 401) return say('This phone is no longer allowed to send. Ask your coordinator. Your work is safe on this phone.');
  if (status === 403) return say('This phone is not allowed to do that. Ask your coordinator.');
  if (status === 413) return say('Too much to send at once. Ask your coordinator for help.');
  if (status >= 500) return say('The server has a problem. Your work is safe on this phone. Try again later.');
  return say('The server said no ({reason}). Your work is safe on this phone.', { reason: body?.message ?? status });
}

// --- Catalogues ------------------------------------------------------------------------------
// One per language besides English, keyed by the English sentence. The browser test checks
// that every sentence the code passes to `say` has a Spanish entry.

const SPANISH = {
  // Errors and server trouble (above).
  'People met': 'Personas contactadas',
  'Kits given': 'Kits entregados',
  'Leaflets given': 'Folletos entregados',
  'Referrals made': 'Derivaciones hechas',
  'Hotline cards given': 'Tarjetas de la línea de ayuda entregadas',
  'Please answer this question.': 'Responde esta pregunta, por favor.',
  'Choose a number from 1 to {max}.': 'Elige un número del 1 al {max}.',
  'Enter a number from {min} to {max}.': 'Escribe un número del {min} al {max}.',
  'This answer is outside the allowed range.': 'Esta respuesta está fuera del rango permitido.',
  'Enter a whole number, like 3.': 'Escribe un número entero, como 3.',
  'This answer does not fit the question.': 'Esta respuesta no corresponde a la pregunta.',
  'Choose from the options shown.': 'Elige entre las opciones que se muestran.',
  'This is too long. Use at most {max} letters.': 'Es demasiado largo. Usa como máximo {max} letras.',
  'Remove phone numbers, e-mail addresses and ID numbers from this answer.': 'Quita de esta respuesta los números de teléfono, correos electrónicos y números de documentos.',
  'This question is not asked after the answers before it.': 'Esta pregunta no se hace con las respuestas anteriores.',
  'Choose the area from the list.': 'Elige la zona de la lista.',
  'Choose the area first.': 'Primero elige la zona.',
  'Choose the date first.': 'Primero elige la fecha.',
  'Choose a real date.': 'Elige una fecha real.',
  'Remove phone numbers, e-mail addresses and ID numbers.': 'Quita los números de teléfono, correos electrónicos y números de documentos.',
  'Use a shorter name with letters and numbers.': 'Usa un nombre más corto, con letras y números.',
  'This file is not a saved copy from this app.': 'Este archivo no es una copia guardada de esta aplicación.',
  'This file belongs to another project and cannot be added here.': 'Este archivo es de otro proyecto y no se puede agregar aquí.',
  'Something went wrong: {message}': 'Algo salió mal: {message}',
  'No connection to the server. Your work is safe on this phone. Try again when you have signal.': 'No hay conexión con el servidor. Tu trabajo está seguro en este teléfono. Vuelve a intentarlo cuando tengas señal.',
  'This code did not work. Check it, or ask your coordinator for a new one.': 'Este código no funcionó. Revísalo o pide uno nuevo a tu coordinador.',
  'This phone\u2019s sign-in has expired. Your work is safe on this phone. Ask your coordinator for a new code and sign in again.': 'El acceso de este teléfono venció. Tu trabajo está seguro en este teléfono. Pide un código nuevo a tu coordinador y vuelve a entrar.',
  'This phone was withdrawn from the project and cannot join it again as itself. Ask your coordinator.': 'Este teléfono fue retirado del proyecto y no puede volver a unirse como el mismo teléfono. Habla con tu coordinador.',
  'This code is for another project than the work on this phone. Ask your coordinator for a code of this project.': 'Este código es de otro proyecto que el trabajo de este teléfono. Pide a tu coordinador un código de este proyecto.',
  'Too many wrong codes were tried. Wait a minute, then try again.': 'Se probaron demasiados códigos incorrectos. Espera un minuto y vuelve a intentarlo.',
  'This phone is no longer allowed to send. Ask your coordinator. Your work is safe on this phone.': 'Este teléfono ya no puede enviar. Habla con tu coordinador. Tu trabajo está seguro en este teléfono.',
  'This phone is not allowed to do that. Ask your coordinator.': 'Este teléfono no puede hacer eso. Habla con tu coordinador.',
  'Too much to send at once. Ask your coordinator for help.': 'Hay demasiado para enviar de una vez. Pide ayuda a tu coordinador.',
  'The server has a problem. Your work is safe on this phone. Try again later.': 'El servidor tiene un problema. Tu trabajo está seguro en este teléfono. Vuelve a intentarlo más tarde.',
  'The server said no ({reason}). Your work is safe on this phone.': 'El servidor lo rechazó ({reason}). Tu trabajo está seguro en este teléfono.',

  // Filling a survey (survey_view.js, question_fields.js, review_view.js, finished_view.js).
  'Language': 'Idioma',
  '\u2190 Back to list': '\u2190 Volver a la lista',
  'This survey is not on the phone yet. Send and update first.': 'Esta encuesta todavía no está en el teléfono. Primero envía y actualiza.',
  'Area': 'Zona',
  'Date of the contact': 'Fecha del contacto',
  ' (needed)': ' (obligatoria)',
  'Do not write names, phone numbers or addresses.': 'No escribas nombres, números de teléfono ni direcciones.',
  '1 = least, {max} = most': '1 = lo mínimo, {max} = lo máximo',
  'Page {page} of {pages}': 'Página {page} de {pages}',
  'Back': 'Atrás',
  'Next': 'Siguiente',
  'Review': 'Revisar',
  'Save draft': 'Guardar borrador',
  'Finish': 'Terminar',
  'Check before you finish': 'Revisa antes de terminar',
  'Everything needed is answered. You can finish.': 'Todo lo necesario está respondido. Puedes terminar.',
  '{count} answers still needed. Tap one to go there.': 'Faltan {count} respuestas. Toca una para ir allí.',
  '1 answer still needed. Tap it to go there.': 'Falta 1 respuesta. Tócala para ir allí.',
  'The survey cannot be finished yet: answer what is listed first.': 'Todavía no se puede terminar la encuesta: primero responde lo que está en la lista.',
  '{answered} questions answered.': '{answered} preguntas respondidas.',
  'Choose the area.': 'Elige la zona.',
  'Choose the date.': 'Elige la fecha.',
  '1 thing needs your attention.': '1 cosa necesita tu atención.',
  '{count} things need your attention.': '{count} cosas necesitan tu atención.',
  'Draft saved on this phone.': 'Borrador guardado en este teléfono.',
  'Draft saved. Some details (like phone numbers) were hidden to protect the person.': 'Borrador guardado. Algunos datos (como números de teléfono) se ocultaron para proteger a la persona.',
  'Survey finished and saved on this phone. It will be sent next time you send.': 'Encuesta terminada y guardada en este teléfono. Se enviará la próxima vez que envíes.',
  'Survey finished and saved on this phone. Some details (like phone numbers) were hidden to protect the person.': 'Encuesta terminada y guardada en este teléfono. Algunos datos (como números de teléfono) se ocultaron para proteger a la persona.',
  'Finished \u00b7 waiting to send': 'Terminada \u00b7 esperando envío',
  'Finished \u00b7 sent': 'Terminada \u00b7 enviada',

  // The main screen (home_view.js).
  '{count} waiting to send': '{count} esperando envío',
  'Everything is sent': 'Todo está enviado',
  ' \u00b7 no internet': ' \u00b7 sin internet',
  'Last sent: {when}': 'Último envío: {when}',
  '{count} item(s) were refused by the server. Open them to see why.': 'El servidor rechazó {count} elemento(s). Ábrelos para ver por qué.',
  'Sending\u2026': 'Enviando\u2026',
  'Send and update': 'Enviar y actualizar',
  'This phone may delete saved surveys when it runs low on space. Send often, and save a copy to a file (under \u201cMore\u201d) if you cannot send for a while. Adding this app to your home screen usually stops this.': 'Este teléfono puede borrar encuestas guardadas cuando le falte espacio. Envía a menudo y guarda una copia en un archivo (en \u201cMás\u201d) si no puedes enviar por un tiempo. Agregar esta aplicación a la pantalla de inicio suele evitarlo.',
  'Surveys': 'Encuestas',
  'Site counts': 'Conteos por sitio',
  'More': 'Más',
  '+ New: {title}': '+ Nueva: {title}',
  'No surveys on this phone yet. Press \u201cSend and update\u201d when you have internet.': 'Todavía no hay encuestas en este teléfono. Pulsa \u201cEnviar y actualizar\u201d cuando tengas internet.',
  'Start a survey': 'Empezar una encuesta',
  'On this phone ({count})': 'En este teléfono ({count})',
  'Nothing yet.': 'Nada todavía.',
  'Cannot open': 'No se puede abrir',
  'Finished': 'Terminada',
  'Draft': 'Borrador',
  'refused': 'rechazada',
  'waiting to send': 'esperando envío',
  'sent': 'enviada',
  'Survey': 'Encuesta',
  'Refused: {reason}': 'Rechazada: {reason}',

  // Phone safety (safetyWords below) and site counts.
  'Nothing to take off: this phone can take off only what it counted itself.': 'No hay nada que restar: este teléfono solo puede restar lo que contó él mismo.',
  '{count} sent': '{count} enviadas',
  'Quick exit': 'Salida rápida',
  'Withdraw': 'Retirar',
  'Withdraw this survey?': '¿Retirar esta encuesta?',
  'Withdraw and delete': 'Retirar y borrar',
  'Cancel': 'Cancelar',
  'The survey was withdrawn and deleted from this phone.': 'La encuesta se retiró y se borró de este teléfono.',
  'Finished surveys after sending': 'Encuestas terminadas después de enviarlas',
  'Delete them from this phone once the server has them (only a count stays)': 'Borrarlas de este teléfono cuando el servidor ya las tenga (solo queda un conteo)',
  'A phone that holds less puts you and the people you met at less risk if it is lost or taken. Drafts and anything not yet sent always stay.': 'Un teléfono que guarda menos te pone a ti y a las personas que conociste en menos riesgo si se pierde o te lo quitan. Los borradores y lo que aún no se envió siempre se quedan.',
  'PIN': 'PIN',
  'If you forget the PIN, nothing can open the data on this phone: surveys not yet sent are lost. Send often.': 'Si olvidas el PIN, nada puede abrir los datos de este teléfono: las encuestas que aún no se enviaron se pierden. Envía a menudo.',
  'No PIN is set: anyone who can open this phone\u2019s browser can read the surveys on it.': 'No hay PIN: cualquiera que pueda abrir el navegador de este teléfono puede leer sus encuestas.',
  'A PIN is set: the surveys on this phone are stored encrypted, and the app asks for the PIN when it opens.': 'Hay un PIN: las encuestas de este teléfono se guardan cifradas y la aplicación pide el PIN al abrirse.',
  'New PIN (at least 6 digits or letters)': 'PIN nuevo (al menos 6 dígitos o letras)',
  'The new PIN again': 'El PIN nuevo otra vez',
  'Current PIN': 'PIN actual',
  'Set PIN': 'Poner PIN',
  'Change PIN': 'Cambiar PIN',
  'Remove PIN': 'Quitar PIN',
  'Use at least 6 digits or letters.': 'Usa al menos 6 dígitos o letras.',
  'The two PINs are not the same.': 'Los dos PIN no son iguales.',
  'That PIN is not right.': 'Ese PIN no es correcto.',
  'Done. The data on this phone is now encrypted with the new PIN.': 'Listo. Los datos de este teléfono ahora están cifrados con el PIN nuevo.',
  'The PIN was removed. The data on this phone is no longer encrypted.': 'Se quitó el PIN. Los datos de este teléfono ya no están cifrados.',
  'Enter your PIN': 'Escribe tu PIN',
  'Open': 'Abrir',
  'Forgot the PIN?': '¿Olvidaste el PIN?',
  'Nothing can open the data without it. You can delete everything the app holds on this phone and join again with a new code; surveys not yet sent are lost.': 'Nada puede abrir los datos sin él. Puedes borrar todo lo que la aplicación guarda en este teléfono y volver a unirte con un código nuevo; las encuestas que aún no se enviaron se pierden.',
  'Delete everything on this phone': 'Borrar todo en este teléfono',
  'This copy was saved before your trainer reset the practice data. Its practice surveys are out of date, so nothing from it was added or will be sent.': 'Esta copia se guardó antes de que tu capacitador reiniciara los datos de práctica. Sus encuestas de práctica están desactualizadas, así que no se agregó ni se enviará nada de ella.',
  'This copy is newer than this phone\u2019s data. Press \u201cSend and update\u201d first, then load it again.': 'Esta copia es más nueva que los datos de este teléfono. Pulsa \u201cEnviar y actualizar\u201d primero y luego vuelve a cargarla.',
  // Joining, start-up, backups, site counts, resets and wipes (enroll_view.js, main.js,
  // backup.js, more_view.js, qr_scan.js, sites_view.js, sync.js, wipe.js, remove_dialog.js).
  'Set up this phone': 'Configura este teléfono',
  'Scan or type the code your coordinator gave you. You need internet for this step only.': 'Escanea o escribe el código que te dio tu coordinador. Solo necesitas internet para este paso.',
  'Load a saved copy instead': 'Cargar una copia guardada',
  'If this phone lost its data, load the file you saved before.': 'Si este teléfono perdió sus datos, carga el archivo que guardaste antes.',
  'This phone\u2019s sign-in has expired. Your work is safe on this phone. Scan or type a new code from your coordinator to go on sending.': 'El acceso de este teléfono venció. Tu trabajo está seguro en este teléfono. Escanea o escribe un código nuevo de tu coordinador para seguir enviando.',
  'Your coordinator signed this phone out. Your work is still on this phone: save a copy to a file (under \u201cMore\u201d), or join again with a new code if your coordinator gives you one.': 'Tu coordinador cerró el acceso de este teléfono. Tu trabajo sigue en este teléfono: guarda una copia en un archivo (en \u201cMás\u201d) o vuelve a unirte con un código nuevo si tu coordinador te lo da.',
  'Sign in again': 'Volver a entrar',
  'Join': 'Unirse',
  'Joining\u2026': 'Uniéndose\u2026',
  'Code': 'Código',
  'The camera could not be opened. Type the code instead.': 'No se pudo abrir la cámara. Escribe el código.',
  'Scan the code': 'Escanear el código',
  'No connection. You need internet to join.': 'No hay conexión. Necesitas internet para unirte.',
  'The code reader could not be loaded. Type the code instead.': 'No se pudo cargar el lector de códigos. Escribe el código.',
  'Point the camera at the code on your coordinator\u2019s screen.': 'Apunta la cámara al código en la pantalla de tu coordinador.',
  'Type the code instead': 'Escribir el código',
  'OK': 'Aceptar',
  'The app is already open in another tab or window. Close it, and this one will start.': 'La aplicación ya está abierta en otra pestaña o ventana. Ciérrala y esta se abrirá.',
  'The app could not start': 'La aplicación no pudo abrirse',
  'Your saved work is still on this phone. Try closing and opening the app again.': 'Tu trabajo guardado sigue en este teléfono. Prueba a cerrar y volver a abrir la aplicación.',
  'Loaded.': 'Cargado.',
  'Loaded. {added} new item(s) added. Anything not sent yet will go with the next send.': 'Cargado. Se agregaron {added} elemento(s) nuevo(s). Lo que aún no se envió irá en el próximo envío.',
  'This file has no phone sign-in in it. Join with a code first, then load it.': 'Este archivo no tiene el acceso de un teléfono. Primero únete con un código y luego cárgalo.',
  'Save a copy to a file': 'Guardar una copia en un archivo',
  '{unsent} item(s) are not sent yet. A file keeps them safe if the phone loses its data.': '{unsent} elemento(s) aún sin enviar. Un archivo los mantiene a salvo si el teléfono pierde sus datos.',
  'Everything is sent. You can still save a copy.': 'Todo está enviado. Igual puedes guardar una copia.',
  'The file contains survey answers and this phone\u2019s sign-in. Keep it private and delete it once the work is sent.': 'El archivo contiene respuestas de encuestas y el acceso de este teléfono. Mantenlo en privado y bórralo cuando el trabajo esté enviado.',
  'Load a saved copy': 'Cargar una copia guardada',
  'Adds the surveys and counts from a saved file to this phone. Nothing on the phone is removed.': 'Agrega a este teléfono las encuestas y los conteos de un archivo guardado. No se quita nada del teléfono.',
  'This phone': 'Este teléfono',
  'The browser has promised to keep this app\u2019s data.': 'El navegador prometió conservar los datos de esta aplicación.',
  'The browser has NOT promised to keep this app\u2019s data. Send often.': 'El navegador NO prometió conservar los datos de esta aplicación. Envía a menudo.',
  'Phone ID: {id}': 'ID del teléfono: {id}',
  'If you need them, save a copy to a file first.': 'Si los necesitas, primero guarda una copia en un archivo.',
  'No sites yet. Send and update to get your team\u2019s sites, or add one below.': 'Aún no hay sitios. Envía y actualiza para recibir los sitios de tu equipo, o agrega uno abajo.',
  ' \u00b7 waiting to send': ' \u00b7 esperando para enviar',
  'Take one off {metric}': 'Restar uno a {metric}',
  'Add one to {metric}': 'Sumar uno a {metric}',
  'e.g. Bus station east gate': 'p. ej. Terminal de autobuses, puerta este',
  'Type a name for the site.': 'Escribe un nombre para el sitio.',
  'Add a new site': 'Agregar un sitio nuevo',
  'Name of the place (no names of people)': 'Nombre del lugar (sin nombres de personas)',
  'Add site': 'Agregar sitio',
  'Not updated: the practice data was reset, and you chose to keep this phone\u2019s copy for now.': 'Sin actualizar: los datos de práctica se reiniciaron y elegiste conservar por ahora la copia de este teléfono.',
  'Your trainer reset the practice data. This phone now has the fresh practice data.': 'Tu capacitador reinició los datos de práctica. Este teléfono ya tiene los datos de práctica nuevos.',
  'Sending failed: {reason}. Your work is safe on this phone.': 'El envío falló: {reason}. Tu trabajo está seguro en este teléfono.',
  'Practice data was reset': 'Se reiniciaron los datos de práctica',
  'Your trainer started fresh practice data. {unsent} item(s) on this phone were not sent and will be removed.': 'Tu capacitador empezó datos de práctica nuevos. {unsent} elemento(s) de este teléfono no se enviaron y se quitarán.',
  'Remove them and continue': 'Quitarlos y continuar',
  'Not now': 'Ahora no',
  'This phone was withdrawn': 'Este teléfono fue retirado',
  'Your coordinator removed this phone from the project. Everything the app holds on it will be deleted.': 'Tu coordinador quitó este teléfono del proyecto. Se borrará todo lo que la aplicación guarda en él.',
  '{unsent} item(s) were never sent and will be lost.': '{unsent} elemento(s) nunca se enviaron y se perderán.',
  'Delete everything': 'Borrar todo',
  'The survey data on this phone was deleted at your coordinator\u2019s request.': 'Los datos de encuestas de este teléfono se borraron a pedido de tu coordinador.',
};

const CATALOGUES = { es: SPANISH };

// Every catalogue by language tag, for the test that no sentence goes untranslated.
export const catalogues = CATALOGUES;

// --- Phone safety: quick exit, PIN, withdrawal, delete after send, backups across a reset ---

// Read through `say` when used, so each is shown in the phone's language.
const SAFETY_WORDS = {
  quickExit: 'Quick exit',
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

export const safetyWords = new Proxy(SAFETY_WORDS, {
  get(words, key) {
    if (key === 'sent') return (count) => say('{count} sent', { count });
    const english = words[key];
    if (typeof english === 'string') return say(english);
    if (Array.isArray(english)) return english.map((line) => say(line));
    return english;
  },
});

