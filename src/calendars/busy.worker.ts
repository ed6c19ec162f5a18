import { parentPort } from 'node:worker_threads';
import type { Interval } from '../lib/interval.js';
import { busyReader } from './busy.js';
import type { IcsBusyResult } from './busy.js';
import { minimizeIcs } from './ics-guard.js';

/**
 * The busy worker: all parsing and recurrence expansion of calendar data happens here, off the
 * main thread (busy-pool.ts sends the work and kills this thread when it runs over its time).
 * Each calendar's parsed objects stay here between reads, so an ordinary read costs little.
 */

export type WorkerRequest =
  | { readonly id: number; readonly op: 'minimize'; readonly texts: readonly string[] }
  | { readonly id: number; readonly op: 'busy'; readonly key: string; readonly texts: readonly string[] | 'same'; readonly window: Interval; readonly timeZone: string };

export type WorkerAnswer =
  | { readonly id: number; readonly op: 'minimize'; readonly value: (string | null)[] }
  | { readonly id: number; readonly op: 'busy'; readonly result: IcsBusyResult };

/** Readers kept (one per calendar connection and zone), the least recently used dropped first. */
const MAX_READERS = 256;
const readers = new Map<string, ReturnType<typeof busyReader>>();
/** The texts last sent for each key: an unchanged calendar is sent as `same` (no copy of its objects). */
const lastTexts = new Map<string, readonly string[]>();

function readerOf(key: string, timeZone: string): ReturnType<typeof busyReader> {
  const id = `${timeZone} ${key}`;
  let r = readers.get(id);
  if (r) readers.delete(id);
  else r = busyReader(timeZone);
  readers.set(id, r);
  if (readers.size > MAX_READERS) readers.delete(readers.keys().next().value as string);
  return r;
}

/** Answers one request. */
export function answer(req: WorkerRequest): WorkerAnswer {
  if (req.op === 'minimize') return { id: req.id, op: 'minimize', value: req.texts.map(minimizeIcs) };
  const id = `${req.timeZone} ${req.key}`;
  const read = readerOf(req.key, req.timeZone);
  const texts = req.texts === 'same' ? lastTexts.get(id) : req.texts;
  // `same` for texts this worker no longer has cannot happen (see below); refuse rather than guess.
  if (!texts) return { id: req.id, op: 'busy', result: { ok: false, error: 'malformed' } };
  // Least recently used last: the pool remembers fewer keys (64) than this (256), so `same` always finds its texts.
  lastTexts.delete(id);
  lastTexts.set(id, texts);
  if (lastTexts.size > MAX_READERS) lastTexts.delete(lastTexts.keys().next().value as string);
  return { id: req.id, op: 'busy', result: read(texts, req.window) };
}

parentPort?.on('message', (req: WorkerRequest) => {
  parentPort?.postMessage(answer(req));
});
// Loaded: the pool starts the clock of a task only from here.
parentPort?.postMessage('ready');
