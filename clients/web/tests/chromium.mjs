// Debian's Chromium, headless, for every browser test: never a downloaded browser, and no
// background traffic (updates, sync, QUIC) on a closed network.

import { chromium } from 'playwright-core';

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync', '--disable-background-networking', '--disable-component-update'],
  });
}
