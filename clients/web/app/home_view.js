// The main screen: sync status always on top (what is waiting, when it last went, what went
// wrong), then the surveys, the site tallies, or the backup tools.

import { h, timeAgo } from './dom.js';
import { client } from './engine.js';
import { app, saveMeta, show } from './state.js';
import { syncNow } from './sync.js';
import { sitesTab } from './sites_view.js';
import { moreTab } from './more_view.js';
import { formTitle } from './form_text.js';
import { signInAgainCard } from './enroll_view.js';
import { withdrawResponse } from './withdraw.js';
import { safetyWords, say } from './words.js';

export function statusBar() {
  const waiting = client.pendingCount();
  const online = navigator.onLine;
  const refused = JSON.parse(client.rejectionsJson()).length;
  return h('section', { class: 'status', id: 'sync-status' },
    h('div', { class: 'status-line' },
      h('span', { id: 'pending-count', class: waiting ? 'waiting' : 'clear' },
        waiting ? say('{count} waiting to send', { count: waiting }) : say('Everything is sent')),
      client.sentCount() ? h('span', { class: 'muted', id: 'sent-count' }, ` \u00b7 ${safetyWords.sent(client.sentCount())}`) : null,
      h('span', { class: 'muted' }, online ? '' : say(' \u00b7 no internet'))),
    h('div', { class: 'muted', id: 'last-sync' }, say('Last sent: {when}', { when: timeAgo(app.meta.lastSync) })),
    refused ? h('div', { class: 'error' }, say('{count} item(s) were refused by the server. Open them to see why.', { count: refused })) : null,
    app.meta.lastError ? h('div', { class: 'error', id: 'sync-error', role: 'alert' }, app.meta.lastError) : null,
    h('button', {
      class: 'big primary', id: 'sync-button', disabled: app.syncing,
      onclick: () => syncNow(),
    }, app.syncing ? say('Sending\u2026') : say('Send and update')));
}

function banners() {
  const list = [];
  if (!app.storagePersisted) {
    list.push(h('div', { class: 'warning', id: 'storage-warning' },
      say('This phone may delete saved surveys when it runs low on space. Send often, and save a copy to a file (under \u201cMore\u201d) if you cannot send for a while. Adding this app to your home screen usually stops this.')));
  }
  if (app.meta.notice) {
    list.push(h('div', { class: 'notice', id: 'notice', role: 'status' }, app.meta.notice,
      h('button', { class: 'plain', onclick: async () => { app.meta.notice = ''; await saveMeta(); app.render(); } }, say('OK'))));
  }
  return list;
}

export function homeView() {
  const tab = app.view.tab ?? 'surveys';
  const tabButton = (name, label) => h('button', {
    class: `tab${tab === name ? ' active' : ''}`, id: `tab-${name}`, 'aria-pressed': String(tab === name),
    onclick: () => show({ name: 'home', tab: name }),
  }, label);
  const body = tab === 'sites' ? sitesTab() : tab === 'more' ? moreTab() : surveysTab();
  return [statusBar(), app.meta.signIn ? signInAgainCard() : null, banners(),
    h('nav', { class: 'tabs' }, tabButton('surveys', say('Surveys')), tabButton('sites', say('Site counts')), tabButton('more', say('More'))),
    body];
}

function surveysTab() {
  const forms = JSON.parse(client.formsJson());
  const titles = Object.fromEntries(forms.map((f) => [f.id, formTitle(f)]));
  const order = app.meta.order;
  const responses = JSON.parse(client.responsesJson()).sort((a, b) => {
    const ia = order.indexOf(a.id);
    const ib = order.indexOf(b.id);
    if (ia !== ib) return ib - ia;
    return (b.collected_on ?? '').localeCompare(a.collected_on ?? '');
  });
  const start = forms.length
    ? forms.map((f) => h('button', {
      class: 'big start', 'data-form': f.id,
      onclick: () => show({ name: 'survey', formId: f.id }),
    }, say('+ New: {title}', { title: formTitle(f) })))
    : h('p', { class: 'muted' }, say('No surveys on this phone yet. Press \u201cSend and update\u201d when you have internet.'));
  return h('section', {},
    h('h2', {}, say('Start a survey')), start,
    h('h2', {}, say('On this phone ({count})', { count: responses.length })),
    responses.length ? h('ul', { class: 'responses', id: 'response-list' }, responses.map((r) => responseRow(r, titles))) : h('p', { class: 'muted' }, say('Nothing yet.')));
}

function responseRow(r, titles) {
  const state = r.error
    ? say('Cannot open')
    : `${r.status === 'submitted' ? say('Finished') : say('Draft')} \u00b7 ${r.refused ? say('refused') : r.waiting ? say('waiting to send') : say('sent')}`;
  return h('li', {},
    h('button', {
      class: 'row', 'data-response': r.id, 'data-status': r.status ?? 'error',
      onclick: () => show({ name: 'survey', responseId: r.id }),
    },
    h('span', { class: 'row-title' }, titles[r.form] ?? r.form ?? say('Survey')),
    h('span', { class: 'muted' }, [r.area?.replaceAll('_', ' '), r.collected_on].filter(Boolean).join(' \u00b7 ')),
    h('span', { class: `badge ${r.status === 'submitted' ? 'done' : 'draft'}` }, state),
    r.refused ? h('span', { class: 'error' }, say('Refused: {reason}', { reason: r.refused.message })) : null),
    r.error ? null : h('button', {
      class: 'plain withdraw', 'data-withdraw': r.id,
      onclick: async () => {
        if (!(await withdrawResponse(r.id))) return;
        app.render();
        syncNow();
      },
    }, safetyWords.withdraw));
}
