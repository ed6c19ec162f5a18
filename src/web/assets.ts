import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files that travel with the program: views, locales and static files. From a checkout they
 * are read from the repository; the single binary registers its embedded SEA assets instead,
 * so nothing depends on the working directory.
 */

type Reader = (name: string) => Buffer;

let embedded: { read: Reader; names: readonly string[] } | null = null;

/** Called by the single binary's entry before anything reads an asset. */
export function useEmbeddedAssets(read: Reader, names: readonly string[]): void {
  embedded = { read, names };
}

/** The repository root when running from a checkout. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** Reads an asset by its repository-relative name, e.g. "views/layouts/main.eta". */
export function readAsset(name: string): Buffer {
  if (embedded) return embedded.read(name);
  return readFileSync(join(repoRoot(), name));
}

/** Every asset name under a folder, e.g. listAssets("static/"). */
export function listAssets(prefix: string): string[] {
  if (embedded) return embedded.names.filter((n) => n.startsWith(prefix));
  const root = repoRoot();
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(join(root, prefix));
  return out.sort();
}

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly hash: string;
}

const TYPES: Readonly<Record<string, string>> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

/** Loads every static file into memory once, with a content hash for cache-busting URLs. */
export function loadStaticFiles(): ReadonlyMap<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of listAssets('static/')) {
    const body = readAsset(name);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    files.set(name.slice('static/'.length), {
      body,
      type: TYPES[ext] ?? 'application/octet-stream',
      hash: createHash('sha256').update(body).digest('hex').slice(0, 10),
    });
  }
  return files;
}
