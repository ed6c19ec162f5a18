import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ok } from '../lib/result.js';
import { fail } from './outcome.js';

/** Parses a command's arguments strictly; an unknown option is a usage failure (exit 2, with the help). */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T, allowPositionals = false) {
  try {
    return ok(parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true }));
  } catch (e) {
    return fail('usage', (e as Error).message);
  }
}
