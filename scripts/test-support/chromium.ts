import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, headless, quiet: no network of its own (updates, sync, QUIC), so every request a test sees is the page's. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
    headless: true,
  });
}
