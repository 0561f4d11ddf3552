// Debian's Chromium, headless, for every browser test: never a downloaded browser, and no
// background traffic (updates, sync, QUIC) on a closed network.

import { chromium } from 'playwright-core';

export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync', '--disable-background-networking', '--disable-component-update', ...extraArgs],
  });
}

// Collects, into the returned array, every Content-Security-Policy violation in the context's
// pages: the server sends a strict policy, and a page that trips it has lost a script, a style
// or a request without necessarily failing otherwise. Chromium reports a violation both as a
// console error and as a `securitypolicyviolation` event on the document; both are watched,
// since the event also fires for what the console leaves out.
export function watchPolicyViolations(context) {
  const violations = [];
  context.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|securitypolicyviolation/.test(msg.text())) {
      violations.push(msg.text());
    }
  });
  context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return violations;
}
