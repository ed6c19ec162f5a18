import type * as Esbuild from 'esbuild';

/** Builds dist/ from src/ unless it is up to date; resolves true when it built. */
export function buildJs(opts?: { force?: boolean; quiet?: boolean }): Promise<boolean>;

/** Packages loaded on the first call of one of their functions (see build-js.mjs). */
export const DEFERRED: Readonly<Record<'@simplewebauthn/server' | 'tsdav' | 'nodemailer', { readonly file: string; readonly named?: readonly string[]; readonly default?: readonly string[] }>>;

/** The ES module standing in for a deferred package; `load` is the source of an expression giving its exports. */
export function deferredShim(pkg: keyof typeof DEFERRED, load: string): string;

/** Bundles one deferred package to a self-contained CommonJS file. */
export function bundleDeferred(esbuild: typeof Esbuild, pkg: keyof typeof DEFERRED, outfile: string, target: string): Promise<void>;
