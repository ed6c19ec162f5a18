// Temporary folders for tests, removed when the test process exits (each test file is its own
// process), so a run leaves nothing in the system's temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new empty folder under the system's temporary folder, named `creneau-<prefix>…`. */
export function tempFolder(prefix: string): string {
  if (made.length === 0) process.once('exit', () => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const dir = mkdtempSync(join(tmpdir(), `creneau-${prefix}`));
  made.push(dir);
  return dir;
}
