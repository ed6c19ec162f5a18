import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/database.js';
import { KEY_FILE, KeyError, NEW_KEY_FILE, generateMasterKey, keyringFrom, masterKeyCandidates, writeKeyFile, type Keyring } from './keyring.js';
import { allSealedCells, countSealedRows, findCanary, replaceCanary, updateSealedCell } from './key.repo.js';
import { open, seal, SealError } from './seal.js';

const CANARY_TEXT = 'creneau-key-canary';
const CANARY_AAD = 'key_canary';

/**
 * Picks the master key at start and proves it against the database's canary. A wrong or
 * missing key with sealed data present refuses to start and touches nothing.
 */
export async function loadKeyring(db: Db, dataDir: string, configured: Buffer | null): Promise<Keyring> {
  const candidates = masterKeyCandidates(dataDir, configured);
  const canary = await findCanary(db);
  if (!canary) {
    if ((await countSealedRows(db)) > 0) {
      throw new KeyError('the database holds sealed secrets but no key canary; refusing to start');
    }
    let key = candidates[0]?.key;
    if (!key) {
      key = generateMasterKey();
      writeKeyFile(join(dataDir, KEY_FILE), key);
    }
    const keyring = keyringFrom(key);
    await replaceCanary(db, keyring.keyId, seal(keyring, CANARY_TEXT, CANARY_AAD));
    return keyring;
  }
  for (const candidate of candidates) {
    const keyring = keyringFrom(candidate.key);
    if (keyring.keyId !== canary.key_id) continue;
    try {
      if (open(keyring, canary.sealed, CANARY_AAD) !== CANARY_TEXT) continue;
    } catch (err) {
      if (err instanceof SealError) continue;
      throw err;
    }
    finishInterruptedRotation(dataDir, configured, candidate.source);
    return keyring;
  }
  const where = configured ? 'CRENEAU_SECRET_KEY' : join(dataDir, KEY_FILE);
  throw new KeyError(
    `the secret key (${candidates.length === 0 ? `${where} is missing` : where}) is not the key this database was sealed with (key id ${canary.key_id}); ` +
      'restore the original key or its CRENEAU_SECRET_KEY value — refusing to start',
  );
}

/** After a crash mid-rotation, keep whichever key file the database accepts. */
function finishInterruptedRotation(dataDir: string, configured: Buffer | null, source: string): void {
  if (configured) return;
  const file = join(dataDir, KEY_FILE);
  const pending = join(dataDir, NEW_KEY_FILE);
  if (source === pending) renameSync(pending, file);
  else if (existsSync(pending)) rmSync(pending);
}

/**
 * Re-seals every secret under a new master key in one transaction. With a generated key file
 * the new key is written to secret.key.new first and swapped in after the commit; with a
 * configured key the caller supplies the new key and must update the configuration.
 */
export async function rotateKey(db: Db, dataDir: string, current: Keyring, newKey: Buffer, writeFile: boolean): Promise<Keyring> {
  const next = keyringFrom(newKey);
  if (next.keyId === current.keyId) throw new KeyError('the new key is the current key');
  const pending = join(dataDir, NEW_KEY_FILE);
  if (writeFile) writeKeyFile(pending, newKey);
  await db.transaction().execute(async (trx) => {
    for (const cell of await allSealedCells(trx)) {
      await updateSealedCell(trx, cell, seal(next, open(current, cell.sealed, cell.aad), cell.aad));
    }
    await replaceCanary(trx, next.keyId, seal(next, CANARY_TEXT, CANARY_AAD));
  });
  if (writeFile) renameSync(pending, join(dataDir, KEY_FILE));
  return next;
}
