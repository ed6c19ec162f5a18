import { boot } from '../boot.js';
import type { Config } from '../config.js';
import { rotateKey } from '../crypto/key.service.js';
import { generateMasterKey, readKeyFile } from '../crypto/keyring.js';
import { parse, UsageError } from './args.js';

export const help = `Usage: creneau rotate-key [--new-key-file FILE]

Re-seals every stored secret under a new master key, in one transaction.
- With the generated key file (DATA_DIR/secret.key): a new key is generated and replaces it.
- With CRENEAU_SECRET_KEY(_FILE): pass the new key with --new-key-file (32 bytes, base64,
  e.g. openssl rand -base64 32 > new.key), then set CRENEAU_SECRET_KEY to it before restarting.
Stop the server first. Existing booking links stay valid only until the next restart with the
new key: they are signed with the key too.`;

/** Re-seals every secret under a new key. */
export async function run(argv: readonly string[], config: Config): Promise<number> {
  const { values } = parse(argv, { 'new-key-file': { type: 'string' } });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const fromEnv = config.secretKeySource !== 'generated';
  const newKeyFile = values['new-key-file'];
  if (fromEnv && !newKeyFile) throw new UsageError('the key comes from CRENEAU_SECRET_KEY: pass the new key with --new-key-file FILE');
  const newKey = newKeyFile ? readKeyFile(newKeyFile) : generateMasterKey();
  const deps = await boot(config);
  try {
    const next = await rotateKey(deps.db, config.dataDir, deps.keyring, newKey, !fromEnv);
    console.log(`secrets re-sealed under key ${next.keyId}${fromEnv ? '; now set CRENEAU_SECRET_KEY to the new key before restarting' : ''}`);
  } finally {
    await deps.db.destroy();
  }
  return 0;
}
