import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Browser, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { insertStaff } from '../accounts/accounts.repo.js';
import { replaceConnection } from '../calendars/connection.repo.js';

// /privacy is generated from the LIVE configuration: each case boots a real Creneau
// (boot + createApp on a random port) with a different environment and reads the page.

async function withApp(env: Record<string, string>, fn: (app: TestApp) => Promise<void>): Promise<void> {
  const app = await startTestApp(env);
  try {
    await fn(app);
  } finally {
    await app.stop();
  }
}

async function privacyPage(app: TestApp, lang = 'en'): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${app.url}/privacy`, { headers: { 'accept-language': lang } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Visible text, roughly: tags stripped, entities for quotes decoded. */
function visible(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

async function addOwner(app: TestApp): Promise<number> {
  return insertStaff(
    app.deps.db,
    { username: 'alice', displayName: 'Salon Alice Martin', email: 'contact@salon-alice.test', passwordHash: null, locale: 'fr', timeZone: 'Europe/Paris', isOwner: true },
    Date.now(),
  );
}

describe('/privacy follows the configuration', () => {
  test('log mode: off says so; debug is flagged with a warning', async () => {
    await withApp({ CRENEAU_LOG: 'off' }, async (app) => {
      const page = await privacyPage(app);
      assert.equal(page.status, 200);
      assert.match(page.text, /id="log-mode">off</);
      assert.doesNotMatch(page.text, /id="debug-warning"/);
    });
    await withApp({ CRENEAU_LOG: 'debug' }, async (app) => {
      const page = await privacyPage(app);
      assert.match(page.text, /id="log-mode">debug</);
      assert.match(page.text, /id="debug-warning"/);
      assert.match(visible(page.text), /Troubleshooting mode is switched ON on this server/);
      const fr = await privacyPage(app, 'fr');
      assert.match(visible(fr.text), /Le mode dépannage est ACTIVÉ sur ce serveur/);
    });
  });

  test('SMTP: the host is named when configured (never the credentials), and absent otherwise', async () => {
    await withApp({ CRENEAU_SMTP_URL: 'smtps://mailer:s3cretSmtpPass@mail.provider.test:465', CRENEAU_MAIL_FROM: 'booking@salon.test' }, async (app) => {
      const page = await privacyPage(app);
      assert.match(visible(page.text), /The mail server mail\.provider\.test, to send you the invitation/);
      assert.match(visible(page.text), /the reminders before your appointment/);
      assert.match(visible(page.text), /written on the calendar event itself, never on this server/);
      assert.match(visible(page.text), /Regularly \(every minute\), this server reads the coming appointments/, 'the default interval');
      assert.doesNotMatch(page.text, /s3cretSmtpPass|mailer:/);
    });
    // The live interval, in words, in both languages.
    for (const [seconds, en, fr] of [['300', 'every 5 minutes', 'toutes les 5 minutes'], ['90', 'every 90 seconds', 'toutes les 90 secondes']] as const) {
      await withApp({ CRENEAU_SMTP_URL: 'smtp://mail.provider.test:25', CRENEAU_MAIL_FROM: 'booking@salon.test', CRENEAU_REMINDER_INTERVAL_SECONDS: seconds }, async (app) => {
        assert.match(visible((await privacyPage(app)).text), new RegExp(`Regularly \\(${en}\\), this server`));
        assert.match(visible((await privacyPage(app, 'fr')).text), new RegExp(`Régulièrement \\(${fr}\\), ce serveur`));
      });
    }
    await withApp({}, async (app) => {
      const page = await privacyPage(app);
      assert.doesNotMatch(page.text, /mail server/);
      assert.match(visible(page.text), /No outside service is configured: this server talks to nobody\./);
    });
  });

  test('calendars: Google appears with a Google connection, CalDAV hosts appear host only', async () => {
    await withApp({ CRENEAU_GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com', CRENEAU_GOOGLE_CLIENT_SECRET: 'not-a-real-secret' }, async (app) => {
      const owner = await addOwner(app);
      // Google configured but nobody connected yet: Google is still a party (sign-in), with its hosts.
      let page = visible((await privacyPage(app)).text);
      assert.match(page, /Google \(Google Calendar and Google sign-in\)/);
      assert.match(page, /oauth2\.googleapis\.com/);
      assert.match(page, /www\.googleapis\.com/);
      assert.doesNotMatch(page, /not-a-real-secret/);
      await replaceConnection(
        app.deps.db,
        { staffId: owner, provider: 'google', url: null, username: 'alice.private@gmail.test', bookingCalendar: 'primary', conflictCalendars: ['primary'], serverSchedules: true },
        () => 'sealed',
        Date.now(),
      );
      page = visible((await privacyPage(app)).text);
      assert.match(page, /Google \(Google Calendar/);
      assert.doesNotMatch(page, /alice\.private/, 'the connected account is not published');
    });
    await withApp({}, async (app) => {
      const owner = await addOwner(app);
      await replaceConnection(
        app.deps.db,
        { staffId: owner, provider: 'caldav', url: 'https://dav.example-host.test/remote.php/dav/calendars/alice-secret-path/', username: 'alice-dav', bookingCalendar: 'b', conflictCalendars: [], serverSchedules: false },
        () => 'sealed',
        Date.now(),
      );
      const page = visible((await privacyPage(app)).text);
      assert.match(page, /The calendar server dav\.example-host\.test, where your booking is written\./);
      assert.doesNotMatch(page, /alice-secret-path|alice-dav|remote\.php/);
      assert.doesNotMatch(page, /Google \(Google Calendar/, 'no Google without configuration or connection');
    });
  });

  test('controller: the owner row, else the privacy_contact setting, else a plain fallback', async () => {
    await withApp({}, async (app) => {
      let page = visible((await privacyPage(app)).text);
      assert.match(page, /has not finished setting it up yet/);
      await addOwner(app);
      page = visible((await privacyPage(app)).text);
      assert.match(page, /Salon Alice Martin/);
      assert.match(page, /contact@salon-alice\.test/);
      await app.deps.db.insertInto('settings').values({ key: 'privacy_contact', value: 'Martin SARL, 3 rue des Lilas, Lyon — dpo@martin.test' }).execute();
      page = visible((await privacyPage(app)).text);
      assert.match(page, /Martin SARL, 3 rue des Lilas, Lyon — dpo@martin\.test/);
      assert.doesNotMatch(page, /contact@salon-alice\.test/);
    });
  });

  test('in French and English, every section; no cookie, not framable; the cookies listed are the real names', async () => {
    await withApp({ CRENEAU_BASE_URL: 'https://booking.example.test' }, async (app) => {
      const en = await privacyPage(app, 'en');
      const fr = await privacyPage(app, 'fr-FR,fr;q=0.9');
      assert.equal(en.headers.get('set-cookie'), null);
      assert.equal(fr.headers.get('set-cookie'), null);
      assert.match(en.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.match(en.text, /<html lang="en">/);
      assert.match(fr.text, /<html lang="fr">/);
      const e = visible(en.text);
      const f = visible(fr.text);
      for (const s of ['What this server does not store', 'No IP addresses', 'Right', 'complaint', '/admin/data', 'No bookings']) assert.ok(e.toLowerCase().includes(s.toLowerCase()), `en: ${s}`);
      for (const s of ['Ce que ce serveur n\'enregistre pas', 'Aucune adresse IP', 'CNIL', 'Vos droits', '/admin/data', 'Aucun rendez-vous']) assert.ok(f.includes(s), `fr: ${s}`);
      // over HTTPS the names carry the __Host- prefix, as the browser sees them
      for (const name of ['__Host-creneau_session', '__Host-creneau_remember', '__Host-creneau_lang']) assert.ok(e.includes(name), name);
      for (const table of ['staff', 'calendar_connections', 'kysely_migration_lock']) assert.match(en.text, new RegExp(`id="table-${table}"`));
      assert.match(e, /Credentials, stored only hashed or encrypted\s*:\s*secret_sealed/);
    });
  });

  test('every page links /privacy in its footer', async () => {
    await withApp({}, async (app) => {
      await addOwner(app);
      const b = new Browser(app.url);
      for (const path of ['/', '/login', '/privacy', '/@alice', '/no-such-page', '/b/not-a-token']) {
        const page = await b.get(path);
        assert.match(page.text, /<footer class="site">\s*<a href="\/privacy">/, `${path} (${page.status})`);
      }
    });
  });
});
