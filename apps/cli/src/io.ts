import type { Readable, Writable } from 'node:stream';

/** A writable the CLI draws on; `isTTY` decides whether a progress bar is shown. */
export type Output = Writable & { isTTY?: boolean; columns?: number };

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIO {
  stdin: Readable;
  stdout: Output;
  stderr: Output;
  /** `KPROXY_URL` and `KPROXY_TOKEN`, read by the entry point only. */
  env: { url?: string | undefined; token?: string | undefined };
  /**
   * Lets a command take over the first Ctrl-C (to finish cleanly) instead of dying at once;
   * returns a function that gives it back. Without it, Ctrl-C is never intercepted.
   */
  onInterrupt?: (handler: () => void) => () => void;
}

/** Writes a chunk and waits for the stream to drain when its buffer is full. */
export async function writeAll(out: Writable, chunk: Uint8Array | string): Promise<void> {
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', done);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}
