import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { flatPng } from '../../scripts/test-support/png.js';
import { busyFromIcs } from './busy.js';
import { createBusyPool, delta } from './busy-pool.js';

const DAY = 86_400_000;
const WINDOW = { start: Date.UTC(2026, 2, 23), end: Date.UTC(2026, 3, 20) };

const ev = (uid: string, lines: string): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', `UID:${uid}@t`, 'DTSTAMP:20260301T000000Z', lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

function calendar(n: number, salt: string): string[] {
  return Array.from({ length: n }, (_, i) =>
    i % 5 === 0
      ? ev(`${salt}s${i}`, `DTSTART;TZID=Europe/Paris:202603${String(2 + (i % 20)).padStart(2, '0')}T1${i % 8}0000\r\nDURATION:PT45M\r\nRRULE:FREQ=WEEKLY;COUNT=6`)
      : ev(`${salt}o${i}`, `DTSTART:202603${String(23 + (i % 8)).padStart(2, '0')}T0${i % 9}${i % 6}000Z\r\nDTEND:202603${String(23 + (i % 8)).padStart(2, '0')}T1${i % 9}0000Z`),
  );
}

test('delta: unchanged lists are `same`; otherwise only new texts are copied, the rest referred to by place', () => {
  const a = calendar(6, 'a');
  assert.equal(delta(a, [...a]), 'same');
  const first = delta(undefined, a);
  assert.notEqual(first, 'same');
  if (first === 'same') return;
  assert.deepEqual([...first.refs], [-1, -1, -1, -1, -1, -1]);
  assert.deepEqual(first.added, a);
  const edited = [a[5] as string, a[0] as string, 'new', a[2] as string];
  const d = delta(a, edited);
  assert.notEqual(d, 'same');
  if (d === 'same') return;
  assert.deepEqual([...d.refs], [5, 0, -1, 2]);
  assert.deepEqual(d.added, ['new']);
});

test('reads through the pool equal reads in this thread as the calendar changes between them', async () => {
  const pool = createBusyPool({ size: 1 });
  try {
    let texts = calendar(40, 'x');
    const steps: [string, (t: string[]) => string[]][] = [
      ['first read', (t) => t],
      ['unchanged', (t) => [...t]],
      ['one edited', (t) => [...t.slice(0, 39), ...calendar(1, 'edit')]],
      ['one removed, order changed', (t) => [...t.slice(20, 39), ...t.slice(0, 19)]],
      ['some added', (t) => [...t, ...calendar(7, 'more')]],
      ['emptied', () => []],
      ['back again', () => calendar(40, 'x')],
    ];
    for (const [what, change] of steps) {
      texts = change(texts);
      for (const shift of [0, 3 * DAY]) {
        const window = { start: WINDOW.start + shift, end: WINDOW.end + shift };
        const expected = busyFromIcs(texts, window, 'Europe/Paris');
        assert.ok(expected.ok && (texts.length === 0 || expected.value.length > 0), what);
        assert.deepEqual(await pool.busy('cal', texts, window, 'Europe/Paris'), expected, what);
      }
    }
    // A malformed object still fails the read closed through the pool.
    assert.deepEqual(await pool.busy('cal', [...texts, 'BEGIN:VCALENDAR\r\nnope'], WINDOW, 'Europe/Paris'), { ok: false, error: 'malformed' });
  } finally {
    await pool.close();
  }
});

test('a first read of a big calendar: budgeted by its size; past its deadline the caller is answered and the worker keeps the parse', async () => {
  const texts = calendar(3000, 'big');
  const expected = busyFromIcs(texts, WINDOW, 'Europe/Paris');
  assert.ok(expected.ok && expected.value.length > 0);

  // A 50 ms budget and nothing per object: the first read cannot finish, fails closed, the worker is replaced.
  const flat = createBusyPool({ size: 1, taskMs: 50, coldMsPerText: 0 });
  try {
    assert.deepEqual(await flat.busy('big', texts, WINDOW, 'Europe/Paris'), { ok: false, error: 'too_costly' });
    assert.equal(flat.recycled, 1);
  } finally {
    await flat.close();
  }

  // 2 s plus 10 ms per new object (the 30 s cap here): a caller that gives up after 20 ms is
  // answered then; the worker finishes the parse and is not replaced, and the next read, with
  // nothing new to parse, answers from it.
  const sized = createBusyPool({ size: 1, taskMs: 2000, coldMsPerText: 10 });
  try {
    // The worker is up (a read in line while it loads would miss its deadline before starting).
    assert.ok((await sized.busy('small', calendar(2, 's'), WINDOW, 'Europe/Paris')).ok);
    const started = Date.now();
    assert.deepEqual(await sized.busy('big', texts, WINDOW, 'Europe/Paris', started + 20), { ok: false, error: 'timeout' });
    const warm = await sized.busy('big', texts, WINDOW, 'Europe/Paris');
    assert.deepEqual(warm, expected, 'the next read answers from what the worker parsed');
    assert.equal(sized.recycled, 0, 'no worker was replaced');
  } finally {
    await sized.close();
  }
});

test('pictures in the pool: re-encoded there; one over its budget fails closed and its worker is replaced', async () => {
  const pool = createBusyPool({ size: 1 });
  // A budget no 16 MP decode fits in, while a refusal from the header costs nothing.
  const tight = createBusyPool({ size: 1, pictureMs: 50 });
  try {
    const small = await pool.picture(flatPng(64, 40));
    assert.ok(small.ok, JSON.stringify(small));
    assert.deepEqual([small.value.type, small.value.width, small.value.height], ['image/jpeg', 64, 64]);
    assert.ok(Buffer.isBuffer(small.value.body) && small.value.body[0] === 0xff, 'a Buffer holding a JPEG comes back');
    assert.deepEqual(await pool.picture(Buffer.from('not a picture')), { ok: false, error: 'type' }, 'refusals come back as they are');
    assert.equal(PNG.sync.read(flatPng(64, 40)).width, 64, 'the test picture itself is a valid PNG');

    const before = tight.recycled;
    assert.deepEqual(await tight.picture(flatPng(4000, 40)), { ok: false, error: 'too_costly' }, '16 MP cannot be decoded in 50 ms');
    assert.equal(tight.recycled, before + 1, 'the worker was terminated and replaced');
    assert.deepEqual(await tight.picture(Buffer.from('RIFF0000WEBPVP8 ')), { ok: false, error: 'webp' }, 'the new worker answers the next one');
  } finally {
    await pool.close();
    await tight.close();
  }
});
