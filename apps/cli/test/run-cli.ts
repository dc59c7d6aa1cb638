import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PassThrough, Readable } from 'node:stream';
import { run } from '../src/program.js';

export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function collect(stream: PassThrough): () => Buffer {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

/** Runs the CLI in-process with the given stdin and environment. */
export async function runCli(
  args: string[],
  options: {
    stdin?: string | Uint8Array;
    env?: { url?: string; token?: string };
    tty?: boolean;
    /** The width of that terminal. */
    columns?: number;
  } = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), {
    isTTY: options.tty ?? false,
    ...(options.columns !== undefined && { columns: options.columns }),
  });
  const out = collect(stdout);
  const err = collect(stderr);
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const code = await run(args, { stdin, stdout, stderr, env: options.env ?? {} });
  return { code, stdout: out(), stderr: err().toString('utf8') };
}

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs the built `kproxy` binary in a child process, stdin/stdout/stderr piped. */
export function spawnCli(
  args: string[],
  options: { stdin?: string | Uint8Array; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
  });
}
