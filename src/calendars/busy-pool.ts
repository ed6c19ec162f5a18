import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Interval } from '../lib/interval.js';
import type { Picture, PictureError } from '../lib/picture-rules.js';
import { err, ok, type Result } from '../lib/result.js';
import type { BusyResult, CalendarFailure, CalendarResult } from './provider.js';
import type { SentTexts, WorkerAnswer, WorkerRequest } from './busy.worker.js';

/**
 * A small pool of worker threads where calendar data is parsed and expanded (busy.worker.ts).
 * Every task has a wall-clock budget: past it, the task fails closed (`too_costly`), its worker
 * is terminated and replaced; objects the worker has not parsed yet add to the budget
 * (COLD_MS_PER_TEXT), and a caller whose deadline passes gets its answer (`late`) while the
 * worker finishes. Tasks of one calendar run one after another on one worker, so a
 * costly calendar holds at most one worker while the others keep serving everyone else.
 */

export interface BusyEngine {
  /** Minimized texts (times only), null for each object that does not parse. */
  minimize(texts: readonly string[]): Promise<CalendarResult<(string | null)[]>>;
  /**
   * Busy intervals of a calendar's objects; `key` keeps that calendar's parse in one worker.
   * `deadline` (epoch ms) is the read's: waiting in line counts against it.
   */
  /** `self`: the staff member's own calendar addresses (an event they declined is free). */
  busy(key: string, texts: readonly string[], window: Interval, timeZone: string, deadline?: number, self?: readonly string[]): Promise<BusyResult>;
}

export interface BusyPool extends BusyEngine {
  /**
   * An uploaded picture checked and re-encoded (lib/picture.ts) off the main thread: decoding a
   * phone photo in pure JS takes seconds, which would stall every other request. `too_costly`
   * when it runs over PICTURE_TASK_MS or its worker dies.
   */
  picture(bytes: Buffer): Promise<Result<Picture, PictureError | 'too_costly'>>;
  /** Workers replaced after running over time or dying, since the pool started. */
  readonly recycled: number;
  close(): Promise<void>;
}

export interface BusyPoolOptions {
  readonly size?: number;
  /** Wall-clock budget of one task (one calendar read's parse and expansion). */
  readonly taskMs?: number;
  /** Wall-clock budget of one picture (PICTURE_TASK_MS). */
  readonly pictureMs?: number;
  /** Budget added per calendar object the worker has not parsed yet (COLD_MS_PER_TEXT). */
  readonly coldMsPerText?: number;
}

/** Default wall-clock budget of one read; the occurrence and iteration caps usually stop it first. */
export const TASK_MS = 3_000;
/** Budget of one picture: a 17 MP photo takes 2–4 s to decode on a small server. */
export const PICTURE_TASK_MS = 20_000;
/**
 * Added to a task's budget for each object new to its worker: the first read of a big calendar
 * parses every object (~0.2–0.5 ms each here, several times that on a small NAS). Without it a
 * first read over the budget killed the worker, the next read was first again, and a big
 * calendar never got a slot. Bounded by MAX_TASK_MS (and the 10,000 objects a read takes).
 */
export const COLD_MS_PER_TEXT = 1;
/** No task runs longer than this, whatever it was sent. */
const MAX_TASK_MS = 30_000;
/** Heap one worker may use: a memory bomb kills that worker only. */
const WORKER_HEAP_MB = 256;

/** Name of the bundled worker source among the single binary's assets (scripts/build-binary.ts). */
export const EMBEDDED_WORKER_ASSET = 'busy-worker.cjs';

let embeddedSource: string | null = null;

/** The single binary has no worker file on disk: it hands the bundled worker source here. */
export function useEmbeddedWorker(source: string): void {
  embeddedSource = source;
}

function spawn(): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: WORKER_HEAP_MB };
  if (embeddedSource !== null) return new Worker(embeddedSource, { eval: true, resourceLimits });
  // Beside this module: busy.worker.js once compiled, busy.worker.ts under tsx.
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./busy.worker.js', import.meta.url), { resourceLimits });
  // Node 20 does not run `--import tsx` in workers: the worker registers tsx itself, then loads the file.
  const tsx = import.meta.resolve('tsx/esm/api');
  const file = new URL('./busy.worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`;
  return new Worker(boot, { eval: true, resourceLimits });
}

type Payload =
  | { readonly op: 'minimize'; readonly texts: readonly string[] }
  | { readonly op: 'picture'; readonly bytes: Uint8Array }
  | { readonly op: 'busy'; readonly key: string; readonly texts: readonly string[]; readonly window: Interval; readonly timeZone: string; readonly self?: readonly string[] };

interface Task {
  readonly id: number;
  readonly key: string;
  readonly payload: Payload;
  readonly deadline: number;
  /** Wall-clock budget once running (the pool's task budget unless the task has its own). */
  readonly budgetMs?: number;
  /** The answer, or why there is none: over its budget (`costly`) or its read's deadline passed in line (`late`). */
  readonly done: (a: WorkerAnswer | 'costly' | 'late') => void;
}

interface Slot {
  worker: Worker;
  /** Texts this worker holds per key, to send `same` instead of the objects when nothing changed. */
  readonly sent: Map<string, readonly string[]>;
  /** The worker has loaded its code: tasks (and their clocks) start only then. */
  ready: boolean;
  /** Workers of this slot that died before being ready, in a row (a broken build fails fast). */
  bootFailures: number;
  current: Task | null;
  /** The current task's budget: past it the worker is terminated. */
  timer: NodeJS.Timeout | null;
  /** The current task's deadline: past it its caller has its answer (`late`), the worker goes on. */
  lateTimer: NodeJS.Timeout | null;
  readonly queue: Task[];
}

/** Starts a pool; workers are started on first use and do not keep the process alive when idle. */
export function createBusyPool(opts: BusyPoolOptions = {}): BusyPool {
  const size = Math.max(1, opts.size ?? Math.min(4, Math.max(2, availableParallelism())));
  const taskMs = opts.taskMs ?? TASK_MS;
  const pictureMs = opts.pictureMs ?? PICTURE_TASK_MS;
  const coldMsPerText = opts.coldMsPerText ?? COLD_MS_PER_TEXT;
  const slots: Slot[] = [];
  let nextId = 1;
  let recycled = 0;
  let closed = false;

  function start(slot: Slot): void {
    slot.worker = spawn();
    slot.sent.clear();
    slot.ready = false;
    watch(slot);
  }

  function watch(slot: Slot): void {
    const w = slot.worker;
    if (slot.queue.length === 0) w.unref();
    w.on('message', (a: WorkerAnswer | 'ready') => {
      if (slot.worker !== w) return;
      if (a === 'ready') {
        slot.ready = true;
        slot.bootFailures = 0;
        return next(slot);
      }
      if (slot.current && a.id === slot.current.id) finish(slot, a);
    });
    // A worker that dies (heap limit, a bug) fails its task closed and is replaced.
    w.on('error', () => replace(slot, w));
    w.on('exit', () => replace(slot, w));
  }

  function replace(slot: Slot, w: Worker): void {
    if (slot.worker !== w || closed) return;
    recycled++;
    if (!slot.ready && ++slot.bootFailures >= 3) {
      // The worker cannot even start: fail what waits (closed) rather than respawn in a loop.
      for (const t of slot.queue.splice(0)) t.done('costly');
    }
    const task = slot.current;
    clearTimers(slot);
    slot.current = null;
    void w.terminate();
    start(slot);
    task?.done('costly');
    next(slot);
  }

  function finish(slot: Slot, a: WorkerAnswer): void {
    const task = slot.current;
    clearTimers(slot);
    slot.current = null;
    task?.done(a);
    next(slot);
  }

  function next(slot: Slot): void {
    if (slot.current || closed) return;
    if (!slot.ready) {
      // Work is waiting for a worker that is still loading: keep the process alive for it.
      if (slot.queue.length > 0) slot.worker.ref();
      return;
    }
    let task = slot.queue.shift();
    // Reads whose deadline passed while they waited fail at once, without costing the worker anything.
    while (task && task.deadline <= Date.now()) {
      task.done('late');
      task = slot.queue.shift();
    }
    if (!task) {
      slot.worker.unref();
      return;
    }
    slot.current = task;
    slot.worker.ref();
    const message = messageOf(slot, task);
    const current = task;
    const budget = Math.min(MAX_TASK_MS, (task.budgetMs ?? taskMs) + coldMsPerText * newTexts(message));
    slot.timer = setTimeout(() => replace(slot, slot.worker), budget);
    // The caller stops waiting at its deadline, but the worker goes on (within its budget): what
    // it parses stays there, so the next read of this calendar is not a first read again.
    if (Number.isFinite(task.deadline)) slot.lateTimer = setTimeout(() => current.done('late'), Math.max(0, task.deadline - Date.now()));
    slot.worker.postMessage(message satisfies WorkerRequest);
  }

  /** The slot already busy with this calendar, else an idle one (this calendar's usual one first), else the shortest queue. */
  function pick(key: string): Slot {
    const all = slots;
    const same = all.find((s) => s.current?.key === key || s.queue.some((t) => t.key === key));
    if (same) return same;
    const home = all[hash(key) % all.length] as Slot;
    if (!home.current) return home;
    const idle = all.find((s) => !s.current);
    if (idle) return idle;
    return all.reduce((a, b) => (b.queue.length < a.queue.length ? b : a));
  }

  /**
   * The request for a task. A calendar is sent as `same` when its objects are the very strings
   * this worker has; otherwise only its new or edited objects are copied, the others referred to
   * by their place in the list this worker has (see SentTexts).
   */
  function messageOf(slot: Slot, task: Task): WorkerRequest {
    const p = task.payload;
    if (p.op !== 'busy') return { id: task.id, ...p };
    const id = `${p.timeZone} ${p.key}`;
    const before = slot.sent.get(id);
    slot.sent.set(id, p.texts);
    if (slot.sent.size > 64) slot.sent.delete(slot.sent.keys().next().value as string);
    return { id: task.id, ...p, texts: delta(before, p.texts) };
  }

  function run(key: string, payload: Payload, deadline = Infinity, budgetMs?: number): Promise<WorkerAnswer | 'costly' | 'late'> {
    if (closed) return Promise.resolve('costly');
    return new Promise((resolve) => {
      const slot = pick(key);
      // Answered once: at the deadline (`late`) or by the worker, whichever comes first.
      let answered = false;
      const done = (a: WorkerAnswer | 'costly' | 'late') => {
        if (answered) return;
        answered = true;
        resolve(a);
      };
      slot.queue.push({ id: nextId++, key, payload, deadline, ...(budgetMs !== undefined ? { budgetMs } : {}), done });
      next(slot);
    });
  }

  // Workers load at once (not at the first read), so no visitor waits for their start.
  for (let i = 0; i < size; i++) {
    const slot: Slot = { worker: spawn(), sent: new Map(), ready: false, bootFailures: 0, current: null, timer: null, lateTimer: null, queue: [] };
    watch(slot);
    slots.push(slot);
  }

  const failure = (a: 'costly' | 'late'): { readonly ok: false; readonly error: CalendarFailure } => err(a === 'late' ? 'timeout' : 'too_costly');

  return {
    get recycled() {
      return recycled;
    },
    async minimize(texts) {
      const a = await run('minimize', { op: 'minimize', texts });
      if (typeof a === 'string') return failure(a);
      return a.op === 'minimize' ? ok(a.value) : failure('costly');
    },
    async busy(key, texts, window, timeZone, deadline, self) {
      const a = await run(key, { op: 'busy', key, texts, window, timeZone, ...(self && self.length > 0 ? { self } : {}) }, deadline);
      if (typeof a === 'string') return failure(a);
      if (a.op !== 'busy') return failure('costly');
      return a.result.ok ? ok(intervalsOf(a.result.value)) : err(a.result.error);
    },
    async picture(bytes) {
      // One key for every picture: uploads are rare, and one at a time leaves the other workers to calendars.
      const a = await run('picture', { op: 'picture', bytes }, Infinity, pictureMs);
      if (typeof a === 'string' || a.op !== 'picture') return err('too_costly');
      return a.result.ok ? ok({ ...a.result.value, body: Buffer.from(a.result.value.body) }) : a.result;
    },
    async close() {
      closed = true;
      for (const s of slots) {
        clearTimers(s);
        s.current?.done('costly');
        for (const t of s.queue.splice(0)) t.done('costly');
        await s.worker.terminate();
      }
    },
  };
}

/** What to send for `texts` to a worker that holds `before` (see SentTexts). */
export function delta(before: readonly string[] | undefined, texts: readonly string[]): SentTexts {
  if (before !== undefined && before.length === texts.length && before.every((t, i) => t === texts[i])) return 'same';
  const places = new Map<string, number>();
  before?.forEach((t, i) => places.set(t, i));
  const refs = new Int32Array(texts.length);
  const added: string[] = [];
  texts.forEach((t, i) => {
    const at = places.get(t);
    refs[i] = at ?? -1;
    if (at === undefined) added.push(t);
  });
  return { refs, added };
}

function clearTimers(slot: Slot): void {
  if (slot.timer) clearTimeout(slot.timer);
  if (slot.lateTimer) clearTimeout(slot.lateTimer);
  slot.timer = null;
  slot.lateTimer = null;
}

/** How many calendar objects a request hands its worker that it has not parsed before. */
function newTexts(message: WorkerRequest): number {
  if (message.op === 'minimize') return message.texts.length;
  if (message.op === 'busy') return message.texts === 'same' ? 0 : message.texts.added.length;
  return 0;
}

/** `start0, end0, start1, end1, …` → intervals. */
function intervalsOf(flat: Float64Array): Interval[] {
  const out: Interval[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ start: flat[i] as number, end: flat[i + 1] as number });
  return out;
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}

let shared: BusyPool | null = null;

/** The process-wide pool every calendar read shares. */
export function sharedBusyPool(): BusyPool {
  shared ??= createBusyPool();
  return shared;
}
