import { readFileSync } from 'node:fs';
import { normalizeEmail, normalizeUsername } from '../accounts/accounts.js';
import { createAccount } from '../accounts/accounts.service.js';
import { generatePassword } from '../accounts/password.js';
import { tryBoot } from '../boot.js';
import type { Config } from '../config.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';

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

/** The refusals that mean "already there" rather than "not valid". */
const TAKEN_KEYS: ReadonlySet<string> = new Set(['admin:errors.username_taken', 'admin:errors.email_taken', 'admin:errors.owner_exists']);

/** Creates a staff account from the command line. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const parsed = parse(argv, {
    username: { type: 'string' },
    email: { type: 'string' },
    'password-file': { type: 'string' },
    owner: { type: 'boolean' },
    'display-name': { type: 'string' },
    'time-zone': { type: 'string' },
    locale: { type: 'string' },
  });
  if (!parsed.ok) return parsed;
  const { values } = parsed.value;
  if (values.help) {
    console.log(help);
    return done;
  }
  if (!values.username) return fail('usage', '--username is required');
  if (!values.email) return fail('usage', '--email is required');
  let password: string;
  const file = values['password-file'];
  if (file) {
    try {
      password = (readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '');
    } catch {
      return fail('unreadable-file', `cannot read ${file}`);
    }
  } else {
    password = generatePassword();
  }
  const booted = await tryBoot(config);
  if (!booted.ok) return fail(booted.error.code, booted.error.message);
  const deps = booted.value;
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
      const lines = result.error.map((e) => `${OPTION_OF[e.field] ?? e.field}: ${t(e.key, e.params ?? {})}`);
      return fail(result.error.some((e) => TAKEN_KEYS.has(e.key)) ? 'exists' : 'invalid', ...lines);
    }
    console.log(`created ${values.owner ? 'owner' : 'staff member'} ${username}`);
    if (!file) console.log(`password: ${password}\n(shown once: keep it somewhere safe or change it in /admin/profile)`);
    return done;
  } finally {
    await deps.db.destroy();
  }
}
