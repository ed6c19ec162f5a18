import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.js';

/**
 * Secrets at rest: AES-256-GCM in a versioned envelope `v1.<keyId>.<iv>.<ciphertext>.<tag>`
 * (base64url). The associated data binds a ciphertext to its row (e.g. "calendar:12:secret"),
 * so a sealed value copied into another row does not open.
 */

export class SealError extends Error {
  override name = 'SealError';
}

/** Seals a UTF-8 secret for the row named by `aad`. */
export function seal(keyring: Keyring, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.sealKey, iv);
  cipher.setAAD(Buffer.from(`v1|${keyring.keyId}|${aad}`, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', keyring.keyId, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join('.');
}

/** Opens an envelope sealed for `aad`; throws SealError on a wrong key, row or any tampering. */
export function open(keyring: Keyring, envelope: string, aad: string): string {
  const parts = envelope.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') throw new SealError('unknown envelope version');
  const [, keyId, ivText, ctText, tagText] = parts as [string, string, string, string, string];
  if (keyId !== keyring.keyId) throw new SealError(`sealed under key ${keyId}, not the current key ${keyring.keyId}`);
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== 12 || tag.length !== 16) throw new SealError('malformed envelope');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyring.sealKey, iv);
    decipher.setAAD(Buffer.from(`v1|${keyId}|${aad}`, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SealError('the sealed value does not authenticate');
  }
}

/** The key id an envelope was sealed under, without opening it. */
export function envelopeKeyId(envelope: string): string | null {
  const parts = envelope.split('.');
  return parts.length === 5 && parts[0] === 'v1' ? (parts[1] ?? null) : null;
}
