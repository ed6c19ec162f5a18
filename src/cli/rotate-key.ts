import { existsSync } from 'node:fs';
import { tryBoot } from '../boot.js';
import type { Config } from '../config.js';
import { rotateKey } from '../crypto/key.service.js';
import { generateMasterKey, KeyError, readKeyFile } from '../crypto/keyring.js';
import { SealError } from '../crypto/seal.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';

export const help = `Usage: creneau rotate-key [--new-key-file FILE]

Re-seals every stored secret under a new master key, in one transaction.
- With the generated key file (DATA_DIR/secret.key): a new key is generated and replaces it.
- With CRENEAU_SECRET_KEY(_FILE): pass the new key with --new-key-file (32 bytes, base64,
  e.g. openssl rand -base64 32 > new.key), then set CRENEAU_SECRET_KEY to it before restarting.
Stop the server first. Existing booking links stay valid only until the next restart with the
new key: they are signed with the key too.`;

/** Re-seals every secret under a new key. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const parsed = parse(argv, { 'new-key-file': { type: 'string' } });
  if (!parsed.ok) return parsed;
  const { values } = parsed.value;
  if (values.help) {
    console.log(help);
    return done;
  }
  const fromEnv = config.secretKeySource !== 'generated';
  const newKeyFile = values['new-key-file'];
  if (fromEnv && !newKeyFile) return fail('usage', 'the key comes from CRENEAU_SECRET_KEY: pass the new key with --new-key-file FILE');
  let newKey: Buffer;
  if (newKeyFile) {
    if (!existsSync(newKeyFile)) return fail('unreadable-file', `cannot read ${newKeyFile}`);
    try {
      newKey = readKeyFile(newKeyFile);
    } catch (e) {
      if (e instanceof KeyError) return fail('key', e.message);
      return fail('unreadable-file', `cannot read ${newKeyFile}`);
    }
  } else {
    newKey = generateMasterKey();
  }
  const booted = await tryBoot(config);
  if (!booted.ok) return fail(booted.error.code, booted.error.message);
  const deps = booted.value;
  try {
    const next = await rotateKey(deps.db, config.dataDir, deps.keyring, newKey, !fromEnv);
    console.log(`secrets re-sealed under key ${next.keyId}${fromEnv ? '; now set CRENEAU_SECRET_KEY to the new key before restarting' : ''}`);
    return done;
  } catch (e) {
    // Nothing was re-sealed: the transaction rolled back (a secret that does not open under the current key).
    if (e instanceof KeyError || e instanceof SealError) return fail('key', `${e.message}; nothing was re-sealed`);
    throw e;
  } finally {
    await deps.db.destroy();
  }
}
