import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { decodeFrameStream, FramingError } from '@kproxy/framing';
import { CliError } from './errors.js';
import type { CliIO } from './io.js';
import { splitLines } from './lines.js';

export type InputMode = 'lines' | 'per-file' | 'framed';

export interface Input {
  /** Total input size when every source is a file; undefined for stdin. */
  totalBytes: number | undefined;
  messages: AsyncIterable<Uint8Array>;
}

const STDIN = '-';

/**
 * Opens the inputs of `push`, `frame` and `unframe`: the named files in order, or stdin when
 * there are none (or for `-`), as a stream of messages. Files are streamed, never read whole,
 * except in per-file mode where a file is one message.
 */
export async function openInput(
  files: readonly string[],
  mode: InputMode,
  io: CliIO,
  onBytes: (n: number) => void,
  maxMessageBytes?: number,
): Promise<Input> {
  const names = files.length === 0 ? [STDIN] : files;
  let totalBytes: number | undefined = 0;
  for (const name of names) {
    if (name === STDIN) {
      totalBytes = undefined;
      continue;
    }
    try {
      const info = await stat(name);
      if (!info.isFile()) throw new Error('not a regular file');
      if (totalBytes !== undefined) totalBytes += info.size;
    } catch (err) {
      throw new CliError(`cannot read ${name}: ${(err as Error).message}`);
    }
  }
  const open = (name: string): AsyncIterable<Uint8Array> =>
    name === STDIN ? io.stdin : createReadStream(name, { highWaterMark: 256 * 1024 });

  async function* messages(): AsyncGenerator<Uint8Array> {
    for (const name of names) {
      if (mode === 'per-file') {
        const whole = name === STDIN ? await readAll(io.stdin) : await readFile(name);
        onBytes(whole.length);
        yield whole;
      } else if (mode === 'framed') {
        const counted = count(open(name), onBytes);
        const options = maxMessageBytes === undefined ? {} : { maxMessageBytes };
        try {
          yield* decodeFrameStream(counted, options);
        } catch (err) {
          if (err instanceof FramingError) {
            const where = name === STDIN ? 'stdin' : name;
            throw new CliError(
              `${where} is not valid framed input: frame ${err.frameIndex} at byte ${err.offset}: ${err.code}`,
            );
          }
          throw err;
        }
      } else {
        yield* splitLines(open(name), onBytes);
      }
    }
  }
  return { totalBytes, messages: messages() };
}

async function* count(
  source: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.length);
    yield chunk;
  }
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}
