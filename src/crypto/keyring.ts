import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The master key and the keys derived from it. A key id (first 8 hex chars of a hash of the
 * key) travels in every sealed envelope and booking token, so a wrong key is detected, not
 * silently used.
 */
export interface Keyring {
  readonly keyId: string;
  /** AES-256-GCM key for sealing secrets at rest. */
  readonly sealKey: Buffer;
  /** HMAC-SHA256 key for booking tokens and other MACs. */
  readonly macKey: Buffer;
}

export class KeyError extends Error {
  override name = 'KeyError';
}

export const KEY_FILE = 'secret.key';
export const NEW_KEY_FILE = 'secret.key.new';

/** Derives the keyring from a 32-byte master key. */
export function keyringFrom(master: Buffer): Keyring {
  if (master.length !== 32) throw new KeyError('the master key must be 32 bytes');
  const keyId = createHash('sha256').update('creneau key id').update(master).digest('hex').slice(0, 8);
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  return Object.freeze({ keyId, sealKey: derive('creneau/seal/v1'), macKey: derive('creneau/mac/v1') });
}

/** A fresh random 32-byte master key. */
export function generateMasterKey(): Buffer {
  return randomBytes(32);
}

/** Writes a key file atomically with mode 0600 (fsync before rename). */
export function writeKeyFile(path: string, key: Buffer): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

/** Reads a base64 key file; refuses a malformed one. */
export function readKeyFile(path: string): Buffer {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new KeyError(`${path} does not hold a 32-byte base64 key`);
  return key;
}

/** Whether a key file can be read by group or others (should be 0600). */
export function keyFileTooOpen(path: string): boolean {
  return (statSync(path).mode & 0o077) !== 0;
}

/**
 * The master key: from configuration, or DATA_DIR/secret.key, generated on first run.
 * Returns every candidate (the key file and an unfinished rotation's new key) so the caller
 * can pick the one the database's canary accepts.
 */
export function masterKeyCandidates(dataDir: string, configured: Buffer | null): { key: Buffer; source: string }[] {
  if (configured) return [{ key: configured, source: 'CRENEAU_SECRET_KEY' }];
  const file = join(dataDir, KEY_FILE);
  const pending = join(dataDir, NEW_KEY_FILE);
  const out: { key: Buffer; source: string }[] = [];
  if (existsSync(file)) out.push({ key: readKeyFile(file), source: file });
  if (existsSync(pending)) out.push({ key: readKeyFile(pending), source: pending });
  return out;
}
