/**
 * The logging policy (DESIGN.md §1.5): `off` prints nothing after the start-up line, errors
 * included; `errors` prints one line per server error with the error class and code only;
 * `debug` adds troubleshooting events whose fields callers keep free of personal data. Never a
 * message text (it may quote input), never request data, no access log.
 */
export type LogLevel = 'off' | 'errors' | 'debug';

export interface Logger {
  readonly level: LogLevel;
  /** The one start-up line, printed in every mode. */
  startup(line: string): void;
  /** A server error: class and code only. */
  error(err: unknown, where: string): void;
  /** A configuration that is probably wrong (errors and debug): never request data. */
  warn(line: string): void;
  /** A troubleshooting event (debug only); fields must carry no personal data. */
  debug(event: string, fields?: Readonly<Record<string, string | number | boolean>>): void;
}

type Sink = (line: string) => void;

/** The error's class name and `code`, never its message. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number' ? `${err.name} ${String(code)}` : err.name;
  }
  return typeof err;
}

/** A logger writing to stderr (or the given sink, for tests). */
export function createLogger(level: LogLevel, sink: Sink = (l) => process.stderr.write(`${l}\n`)): Logger {
  return {
    level,
    startup: (line) => sink(line),
    error: (err, where) => {
      if (level === 'off') return;
      // `where` is a route pattern or component name, never a concrete URL.
      sink(`error ${describeError(err)} at ${where}`);
      if (level === 'debug' && err instanceof Error && err.stack) {
        // Frames only: the first line of a stack repeats the message.
        const frames = err.stack.split('\n').filter((l) => l.trimStart().startsWith('at ')).slice(0, 8);
        for (const f of frames) sink(`  ${f.trim()}`);
      }
    },
    warn: (line) => {
      if (level !== 'off') sink(`warning ${line}`);
    },
    debug: (event, fields = {}) => {
      if (level !== 'debug') return;
      const kv = Object.entries(fields).map(([k, v]) => `${k}=${String(v)}`);
      sink(`debug ${event}${kv.length ? ` ${kv.join(' ')}` : ''}`);
    },
  };
}
