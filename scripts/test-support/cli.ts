// The CLI run in-process through main(), exactly as the binary would, with its output captured.
import { main } from '../../src/main.js';

/** Runs `creneau <argv>` with the given environment; returns the exit code, stdout and stderr. */
export async function runCli(argv: readonly string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const write = process.stdout.write.bind(process.stdout);
  const log = console.log;
  const error = console.error;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  console.log = (...a: unknown[]) => void (out += `${a.join(' ')}\n`);
  console.error = (...a: unknown[]) => void (err += `${a.join(' ')}\n`);
  try {
    const code = await main(argv, { CRENEAU_LOG: 'off', ...env });
    return { code, out, err };
  } finally {
    process.stdout.write = write;
    console.log = log;
    console.error = error;
  }
}
