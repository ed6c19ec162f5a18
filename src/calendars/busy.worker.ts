import { parentPort } from 'node:worker_threads';
import type { Interval } from '../lib/interval.js';
import { cleanPicture } from '../lib/picture.js';
import type { Picture, PictureError } from '../lib/picture-rules.js';
import type { Result } from '../lib/result.js';
import { busyReader } from './busy.js';
import type { IcsFailure } from './busy.js';
import { minimizeIcs } from './ics-guard.js';

/**
 * The busy worker: all parsing and recurrence expansion of calendar data happens here, off the
 * main thread (busy-pool.ts sends the work and kills this thread when it runs over its time).
 * Each calendar's parsed objects stay here between reads, so an ordinary read costs little.
 * Uploaded pictures are decoded and re-encoded here too (lib/picture.ts, seconds of pure-JS
 * work for a phone photo): the same untrusted-input rules, and no visitor waits behind them.
 */

/**
 * A calendar's objects as sent: `same` when they are the very texts last sent for that key, else
 * each object as the index of the same text in the last list sent (`refs[i] >= 0`) or, for -1,
 * the next of `added` — an edited calendar costs a copy of its edited objects only.
 */
export type SentTexts = 'same' | { readonly refs: Int32Array; readonly added: readonly string[] };

export type WorkerRequest =
  | { readonly id: number; readonly op: 'minimize'; readonly texts: readonly string[] }
  | { readonly id: number; readonly op: 'picture'; readonly bytes: Uint8Array }
  | { readonly id: number; readonly op: 'busy'; readonly key: string; readonly texts: SentTexts; readonly window: Interval; readonly timeZone: string; readonly self?: readonly string[] };

/** Busy intervals as `start0, end0, start1, end1, …` in a buffer handed over (transferred), not copied. */
export type BusyAnswer = { readonly ok: true; readonly value: Float64Array<ArrayBuffer> } | { readonly ok: false; readonly error: IcsFailure };

export type WorkerAnswer =
  | { readonly id: number; readonly op: 'minimize'; readonly value: (string | null)[] }
  | { readonly id: number; readonly op: 'picture'; readonly result: Result<Picture, PictureError> }
  | { readonly id: number; readonly op: 'busy'; readonly result: BusyAnswer };

/** Readers kept (one per calendar connection and zone), the least recently used dropped first. */
const MAX_READERS = 256;
const readers = new Map<string, ReturnType<typeof busyReader>>();
/** The texts last sent for each key: what `same` and `refs` refer to. */
const lastTexts = new Map<string, readonly string[]>();

function readerOf(key: string, timeZone: string, self: readonly string[] = []): ReturnType<typeof busyReader> {
  // The staff member's own addresses are part of the reader (an event they declined is free).
  const id = `${timeZone} ${self.join(' ')} ${key}`;
  let r = readers.get(id);
  if (r) readers.delete(id);
  else r = busyReader(timeZone, { self });
  readers.set(id, r);
  if (readers.size > MAX_READERS) readers.delete(readers.keys().next().value as string);
  return r;
}

/** The texts a request stands for, or null when it refers to texts this worker does not have. */
function textsOf(sent: SentTexts, before: readonly string[] | undefined): readonly string[] | null {
  if (sent === 'same') return before ?? null;
  const out: string[] = [];
  let next = 0;
  for (const ref of sent.refs) {
    const text = ref < 0 ? sent.added[next++] : before?.[ref];
    if (text === undefined) return null;
    out.push(text);
  }
  return next === sent.added.length ? out : null;
}

/** Answers one request. */
export function answer(req: WorkerRequest): WorkerAnswer {
  if (req.op === 'minimize') return { id: req.id, op: 'minimize', value: req.texts.map(minimizeIcs) };
  if (req.op === 'picture') return { id: req.id, op: 'picture', result: cleanPicture(Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength)) };
  const id = `${req.timeZone} ${req.key}`;
  const read = readerOf(req.key, req.timeZone, req.self);
  const texts = textsOf(req.texts, lastTexts.get(id));
  // References to texts this worker no longer has cannot happen (see below); refuse rather than guess.
  if (!texts) return { id: req.id, op: 'busy', result: { ok: false, error: 'malformed' } };
  // Least recently used last: the pool remembers fewer keys (64) than this (256), so a reference always finds its texts.
  lastTexts.delete(id);
  lastTexts.set(id, texts);
  if (lastTexts.size > MAX_READERS) lastTexts.delete(lastTexts.keys().next().value as string);
  const r = read(texts, req.window);
  if (!r.ok) return { id: req.id, op: 'busy', result: r };
  const flat = new Float64Array(2 * r.value.length);
  r.value.forEach((s, i) => {
    flat[2 * i] = s.start;
    flat[2 * i + 1] = s.end;
  });
  return { id: req.id, op: 'busy', result: { ok: true, value: flat } };
}

parentPort?.on('message', (req: WorkerRequest) => {
  const a = answer(req);
  // A picture (≤ 100 kB) is copied: its Buffer may share a pooled ArrayBuffer with others.
  parentPort?.postMessage(a, a.op === 'busy' && a.result.ok ? [a.result.value.buffer] : []);
});
// Loaded: the pool starts the clock of a task only from here.
parentPort?.postMessage('ready');
