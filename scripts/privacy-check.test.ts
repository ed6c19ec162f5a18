import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CANARY_STEM, canaryClient, filesUnder, runPrivacyCheck, scanBytes } from './privacy-check.js';

test('the scanner finds canaries as UTF-8 and UTF-16LE, in any case (so the check can fail)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'creneau-scan-'));
  try {
    const { fields } = canaryClient(3);
    writeFileSync(join(dir, 'a.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from((fields.email ?? '').toUpperCase(), 'utf8')]));
    writeFileSync(join(dir, 'b.bin'), Buffer.from(`x${fields.first_name}y`, 'utf16le'));
    writeFileSync(join(dir, 'c.bin'), Buffer.from('nothing to see', 'utf8'));
    const hits = filesUnder(dir).flatMap((f) => scanBytes(f, readFileSync(f), [CANARY_STEM]));
    assert.deepEqual(hits.map((h) => `${h.where.slice(-5)} ${h.encoding}`).sort(), ['a.bin utf8', 'b.bin utf16le']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run privacy-check: 20 canary bookings, cancels, reschedules, forced errors and a backup leave 0 traces on disk and in logs', async () => {
  const r = await runPrivacyCheck();
  console.log(r.report.replace(/^/gm, '# '));
  assert.equal(r.bookings, 20);
  assert.equal(r.cancelled, 5);
  assert.equal(r.rescheduled, 5);
  assert.ok(r.reminders >= 1, 'a reminder was e-mailed during the session');
  assert.equal(r.answeredRequests, 2, 'one request approved, one declined');
  assert.equal(r.optIns, 1, 'one booking confirmed by its e-mailed link');
  assert.ok(r.inCalendar >= 15, `the canaries reached the calendar (${r.inCalendar})`);
  assert.ok(r.filesScanned.some((f) => f === 'creneau.sqlite'));
  assert.ok(r.filesScanned.some((f) => f.startsWith('backup-privacy-check')), 'the backup was scanned');
  assert.ok(r.filesScanned.some((f) => f.endsWith('-wal')), 'the WAL was scanned');
  assert.ok(r.filesScanned.includes('secret.key'));
  assert.ok(r.logLines > 0, 'debug logging produced output to scan');
  assert.ok(Object.keys(r.forcedErrors).length >= 10);
  assert.deepEqual(r.hits, [], r.report);
});
