import assert from 'node:assert/strict';
import { test } from 'node:test';
import PostalMime from 'postal-mime';
import { loadConfig } from '../config.js';
import { createLogger } from '../lib/log.js';
import { createMailer } from './mailer.js';
import { startSmtpSink } from '../../scripts/test-support/world.js';

function mailerFor(url: string, lines: string[]) {
  const config = loadConfig({ CRENEAU_SMTP_URL: url, CRENEAU_MAIL_FROM: 'Salon <booking@salon.example>', CRENEAU_BASE_URL: 'https://booking.salon.example', CRENEAU_LOG: 'debug' });
  const mailer = createMailer(config, { log: createLogger('debug', (l) => lines.push(l)), retryDelaysMs: [50, 100] });
  assert.ok(mailer);
  return mailer;
}

const MAIL = {
  to: { name: 'Zoé Client', address: 'zoe@client.example' },
  subject: 'Your booking',
  text: 'Hello Zoé,\n\nManage it at https://booking.salon.example/b/abc.def?tz=America%2FNew_York.\nSee you <soon>.',
  calendar: { method: 'REQUEST' as const, content: 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n' },
};

test('a message is multipart (text, HTML, calendar), auto-submitted, with a Message-ID on the business domain', async () => {
  const smtp = await startSmtpSink({ count: 0, code: 421 });
  try {
    assert.equal(await mailerFor(smtp.url, []).send(MAIL), true);
    assert.equal(smtp.mails.length, 1);
    const raw = smtp.mails[0]?.raw ?? '';
    const parsed = await PostalMime.parse(raw);
    assert.match(raw, /^Auto-Submitted: auto-generated\r?$/m);
    assert.match(parsed.messageId ?? '', /^<[0-9a-f]{32}@booking\.salon\.example>$/);
    assert.equal(parsed.text?.trim(), MAIL.text);
    assert.match(parsed.html ?? '', /<a href="https:\/\/booking\.salon\.example\/b\/abc\.def\?tz=America%2FNew_York">/);
    assert.match(parsed.html ?? '', /See you &lt;soon&gt;\./, 'the text is escaped in HTML');
    assert.ok(parsed.attachments.some((a) => a.mimeType.startsWith('text/calendar')), 'the invitation travels along');
  } finally {
    await smtp.stop();
  }
});

test('a passing refusal (4xx) is retried with back-off and arrives once; the log names no one', async () => {
  const smtp = await startSmtpSink({ count: 2, code: 421 });
  const lines: string[] = [];
  try {
    const mailer = mailerFor(smtp.url, lines);
    assert.equal(await mailer.send(MAIL), false, 'not taken on the first attempt');
    assert.equal(mailer.pending(), 1);
    const until = Date.now() + 5000;
    while ((smtp.mails.length === 0 || mailer.pending() > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(smtp.mails.length, 1, 'delivered by the retries');
    assert.equal(smtp.attempts(), 3);
    assert.equal(mailer.pending(), 0);
    const log = lines.join('\n');
    assert.match(log, /mail_retry_scheduled attempt=2/);
    assert.doesNotMatch(log, /zoe|Zoé|client\.example|Your booking/i);
  } finally {
    await smtp.stop();
  }
});

test('a final refusal (5xx) is not retried; retries run out after the last delay', async () => {
  const permanent = await startSmtpSink({ count: 1, code: 550 });
  const lines: string[] = [];
  try {
    const mailer = mailerFor(permanent.url, lines);
    assert.equal(await mailer.send(MAIL), false);
    assert.equal(mailer.pending(), 0, 'nothing waits after a 5xx');
  } finally {
    await permanent.stop();
  }
  const always = await startSmtpSink({ count: 100, code: 451 });
  try {
    const mailer = mailerFor(always.url, lines);
    assert.equal(await mailer.send(MAIL), false);
    const until = Date.now() + 5000;
    while (mailer.pending() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(always.attempts(), 3, 'the first attempt and one per delay');
    assert.equal(always.mails.length, 0);
    assert.match(lines.join('\n'), /error MailGivenUp at mail/);
  } finally {
    await always.stop();
  }
});
