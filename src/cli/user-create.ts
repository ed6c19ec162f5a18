import { readFileSync } from 'node:fs';
import { normalizeEmail, normalizeUsername } from '../accounts/accounts.js';
import { createAccount } from '../accounts/accounts.service.js';
import { generatePassword } from '../accounts/password.js';
import { boot } from '../boot.js';
import type { Config } from '../config.js';
import { parse, UsageError } from './args.js';

export const help = `Usage: creneau user create --username U --email E [options]

Creates a staff account.
  --username U         public name in /@U: 3-32 of a-z, 0-9 and "-"
  --email E            sign-in e-mail (never shown to clients)
  --password-file F    read the password from F (first line); without it a random password
                       is generated and printed once
  --owner              make this account the owner (the first account; can invite others)
  --display-name N     name shown on the public page (default: the username)
  --time-zone Z        IANA time zone such as Europe/Paris (default: UTC)
  --locale L           en or fr (default: CRENEAU_DEFAULT_LOCALE)`;

const OPTION_OF: Readonly<Record<string, string>> = {
  username: '--username',
  email: '--email',
  display_name: '--display-name',
  time_zone: '--time-zone',
  locale: '--locale',
  password: '--password-file',
  password_confirm: '--password-file',
};

/** Creates a staff account from the command line. */
export async function run(argv: readonly string[], config: Config): Promise<number> {
  const { values } = parse(argv, {
    username: { type: 'string' },
    email: { type: 'string' },
    'password-file': { type: 'string' },
    owner: { type: 'boolean' },
    'display-name': { type: 'string' },
    'time-zone': { type: 'string' },
    locale: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (!values.username) throw new UsageError('--username is required');
  if (!values.email) throw new UsageError('--email is required');
  let password: string;
  const file = values['password-file'];
  if (file) {
    try {
      password = (readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '');
    } catch {
      console.error(`creneau user create: cannot read ${file}`);
      return 1;
    }
  } else {
    password = generatePassword();
  }
  const deps = await boot(config);
  try {
    const username = normalizeUsername(values.username);
    const result = await createAccount(deps, {
      profile: {
        username,
        displayName: values['display-name'] ?? username,
        email: normalizeEmail(values.email),
        timeZone: values['time-zone'] ?? 'UTC',
        locale: values.locale ?? config.defaultLocale,
        bio: '',
        place: '',
      },
      password,
      passwordConfirm: password,
      isOwner: values.owner === true,
    });
    if (!result.ok) {
      const t = deps.i18n.getFixedT('en');
      for (const e of result.error) console.error(`creneau user create: ${OPTION_OF[e.field] ?? e.field}: ${t(e.key, e.params ?? {})}`);
      return 1;
    }
    console.log(`created ${values.owner ? 'owner' : 'staff member'} ${username}`);
    if (!file) console.log(`password: ${password}\n(shown once: keep it somewhere safe or change it in /admin/profile)`);
    return 0;
  } finally {
    await deps.db.destroy();
  }
}
