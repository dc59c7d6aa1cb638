import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeFrames } from './encode.js';
import { FramingError } from './errors.js';
import { decodeFrameStream } from './stream.js';

const text = (value: string) => new TextEncoder().encode(value);
const strings = (messages: Uint8Array[]) => messages.map((m) => new TextDecoder().decode(m));

async function collect(messages: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: Uint8Array[] = [];
  for await (const message of messages) out.push(message);
  return strings(out);
}

function webStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

const body = encodeFrames([text('one'), text(''), text('three')]);
// Split inside the first prefix, inside a payload and inside the last prefix.
const chunks = [body.subarray(0, 2), body.subarray(2, 5), body.subarray(5, 13), body.subarray(13)];

describe('decodeFrameStream', () => {
  it('decodes a Node Readable split anywhere', async () => {
    expect(await collect(decodeFrameStream(Readable.from(chunks)))).toEqual(['one', '', 'three']);
  });

  it('decodes Buffer chunks from a Node Readable', async () => {
    const readable = Readable.from([Buffer.from(body)], { objectMode: false });
    expect(await collect(decodeFrameStream(readable))).toEqual(['one', '', 'three']);
  });

  it('decodes a web ReadableStream split anywhere', async () => {
    expect(await collect(decodeFrameStream(webStream(chunks)))).toEqual(['one', '', 'three']);
  });

  it('decodes an async generator', async () => {
    async function* source() {
      await Promise.resolve();
      yield* chunks;
    }
    expect(await collect(decodeFrameStream(source()))).toEqual(['one', '', 'three']);
  });

  it('yields the messages before a truncation, then throws FramingError', async () => {
    const seen: string[] = [];
    const run = async () => {
      for await (const message of decodeFrameStream(webStream([body.subarray(0, 15)]))) {
        seen.push(new TextDecoder().decode(message));
      }
    };
    await expect(run()).rejects.toMatchObject({
      code: 'truncated_payload',
      frameIndex: 2,
      offset: 11,
    });
    expect(seen).toEqual(['one', '']);
  });

  it('throws message_too_large from a Node Readable and destroys it', async () => {
    const readable = Readable.from([Uint8Array.of(0, 0, 0, 0), Uint8Array.of(9, 0, 0, 0)]);
    await expect(
      collect(decodeFrameStream(readable, { maxMessageBytes: 8 })),
    ).rejects.toBeInstanceOf(FramingError);
    expect(readable.destroyed).toBe(true);
  });

  it('cancels a web stream when the consumer stops early', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encodeFrames([text('again')]));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const message of decodeFrameStream(stream)) {
      expect(strings([message])).toEqual(['again']);
      break;
    }
    expect(cancelled).toBe(true);
    expect(stream.locked).toBe(false);
  });

  it('propagates an error of the source stream', async () => {
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('connection reset'));
      },
    });
    await expect(collect(decodeFrameStream(stream))).rejects.toThrow('connection reset');
  });

  it('rejects string chunks with a TypeError', async () => {
    const readable = Readable.from(['not bytes']);
    await expect(
      collect(decodeFrameStream(readable as AsyncIterable<Uint8Array>)),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it('validates the source and options at the call, not on first read', () => {
    expect(() => decodeFrameStream({} as AsyncIterable<Uint8Array>)).toThrow(TypeError);
    expect(() => decodeFrameStream(webStream([]), { maxMessageBytes: -1 })).toThrow(RangeError);
  });
});
