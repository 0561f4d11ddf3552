// Site counts: quick +1 taps per outreach site, shared with every phone of the project. Each
// phone's taps go into a count of its own (an Automerge counter the server adds to everyone
// else's), so tapping offline is safe even when a colleague taps the same site at the same
// time, and -1 takes back only this phone's own taps.

import { h } from './dom.js';
import { client, change } from './engine.js';
import { app } from './state.js';
import { metricLabel, problem, say } from './words.js';

export function sitesTab() {
  const sites = JSON.parse(client.sitesJson()).sort((a, b) => a.name.localeCompare(b.name));
  return h('section', {},
    h('h2', {}, say('Site counts')),
    sites.length ? sites.map(siteCard) : h('p', { class: 'muted' }, say('No sites yet. Send and update to get your team\u2019s sites, or add one below.')),
    addSiteForm());
}

function siteCard(site) {
  const note = h('p', { class: 'error', role: 'alert' });
  const bump = async (metric, by) => {
    try {
      await change((c) => c.bumpTally(site.id, metric, by));
      app.render();
    } catch (error) {
      note.textContent = problem(error);
    }
  };
  return h('article', { class: 'card site', 'data-site': site.site },
    h('h3', {}, site.name, site.waiting ? h('span', { class: 'muted' }, say(' \u00b7 waiting to send')) : null),
    site.refused ? h('p', { class: 'error' }, say('Refused: {reason}', { reason: site.refused.message })) : null,
    note,
    Object.entries(site.tallies).map(([metric, total]) => h('div', { class: 'tally', 'data-metric': metric },
      h('span', { class: 'tally-label' }, metricLabel(metric)),
      h('span', { class: 'tally-total' }, String(total)),
      h('button', { class: 'minus', 'aria-label': say('Take one off {metric}', { metric: metricLabel(metric) }), onclick: () => bump(metric, -1) }, '\u22121'),
      h('button', { class: 'plus', 'aria-label': say('Add one to {metric}', { metric: metricLabel(metric) }), onclick: () => bump(metric, 1) }, '+1'))));
}

function addSiteForm() {
  const name = h('input', { id: 'new-site-name', maxlength: 120, autocomplete: 'off', placeholder: say('e.g. Bus station east gate') });
  const message = h('p', { class: 'error', role: 'alert' });
  const add = async (event) => {
    event.preventDefault();
    const text = name.value.trim();
    if (!text) {
      message.textContent = say('Type a name for the site.');
      return;
    }
    try {
      await change((c) => c.createSite(siteCode(text), text));
      name.blur(); // a focused field keeps the screen from redrawing (see main.js)
      app.render();
    } catch (error) {
      message.textContent = problem(error);
    }
  };
  return h('details', { class: 'card' }, h('summary', {}, say('Add a new site')),
    h('form', { onsubmit: add },
      h('label', { for: 'new-site-name' }, say('Name of the place (no names of people)')), name,
      h('button', { class: 'big', type: 'submit', id: 'add-site' }, say('Add site')), message));
}

// A code from the name, as the server wants identifiers: lowercase letters, digits and '-'.
// A short random tail keeps two phones that add "Market" offline from colliding.
function siteCode(name) {
  const base = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'site';
  const tail = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${base}-${tail}`;
}
