import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, headless, quiet: no network of its own (updates, sync, QUIC), so every request a test sees is the page's. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
    headless: true,
  });
}

/**
 * Where the browser tests put their screenshots (looked at by a person): CRENEAU_SCREENSHOTS, or
 * a folder in the system's temporary directory; created if missing.
 */
export function screenshotsDir(): string {
  const dir = process.env.CRENEAU_SCREENSHOTS ?? join(tmpdir(), 'creneau-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
