/** Shared flag parsing for the worker CLIs: clear usage errors instead of stack traces. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(options: T, argv: string[]) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function intFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function sizeFlag(value: string | undefined, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  const m = /^(\d+)x(\d+)$/i.exec(value);
  if (!m) throw new UsageError(`--size must look like 512x512 (WIDTHxHEIGHT), got "${value}"`);
  return [Number(m[1]), Number(m[2])];
}

/** Runs a CLI main; usage errors print the message + usage and exit 2, others exit 1. */
export function runCli(usage: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${usage}\n`);
      process.exit(2);
    }
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`error${typeof code === 'string' ? ` [${code}]` : ''}: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  });
}
