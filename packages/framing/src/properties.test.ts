import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrames } from './decode.js';
import { FrameDecoder } from './decoder.js';
import { encodeFrames } from './encode.js';
import { FramingError } from './errors.js';
import { decodeFrameStream } from './stream.js';

const asArrays = (messages: Uint8Array[]) => messages.map((message) => Array.from(message));

const messagesArb = fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 });
// Empty messages are over-represented on purpose: they are where off-by-one mistakes hide.
const messagesWithEmptiesArb = fc.array(
  fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 1, maxLength: 40 })),
  { maxLength: 12 },
);
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

/** Splits `body` at the given points (taken modulo its length), keeping empty chunks. */
function split(body: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((cut) => cut % (body.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(body.subarray(start, point));
    start = point;
  }
  chunks.push(body.subarray(start));
  return chunks;
}

/** What the incremental decoder produced before finishing or failing. */
function feed(
  chunks: Uint8Array[],
  maxMessageBytes?: number,
): { messages: Uint8Array[]; error?: unknown } {
  const decoder = new FrameDecoder({ maxMessageBytes });
  const messages: Uint8Array[] = [];
  try {
    for (const chunk of chunks) messages.push(...decoder.push(chunk));
    decoder.end();
    return { messages };
  } catch (error) {
    return { messages, error };
  }
}

function describeError(error: unknown) {
  if (!(error instanceof FramingError)) throw error;
  return { code: error.code, frameIndex: error.frameIndex, offset: error.offset };
}

describe('framing properties', () => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(messagesWithEmptiesArb, (messages) => {
        expect(asArrays(decodeFrames(encodeFrames(messages)))).toEqual(asArrays(messages));
      }),
    );
  });

  it('gives the same messages however the body is chunked', () => {
    fc.assert(
      fc.property(messagesWithEmptiesArb, cutsArb, (messages, cuts) => {
        const result = feed(split(encodeFrames(messages), cuts));
        expect(result.error).toBeUndefined();
        expect(asArrays(result.messages)).toEqual(asArrays(messages));
      }),
    );
  });

  it('gives the same messages from a chunked stream', async () => {
    await fc.assert(
      fc.asyncProperty(messagesArb, cutsArb, async (messages, cuts) => {
        const decoded: Uint8Array[] = [];
        async function* source() {
          for (const chunk of split(encodeFrames(messages), cuts)) {
            await Promise.resolve();
            yield chunk;
          }
        }
        for await (const message of decodeFrameStream(source())) decoded.push(message);
        expect(asArrays(decoded)).toEqual(asArrays(messages));
      }),
      { numRuns: 50 },
    );
  });

  it('reports every truncation inside a frame and never yields a wrong message', () => {
    fc.assert(
      fc.property(
        messagesWithEmptiesArb.filter((messages) => messages.length > 0),
        cutsArb,
        (messages, cuts) => {
          const body = encodeFrames(messages);
          const starts = [0];
          for (const message of messages) starts.push(starts.at(-1)! + 4 + message.length);
          for (let end = 0; end < body.length; end += 1) {
            const truncated = body.subarray(0, end);
            const result = feed(split(truncated, cuts));
            // Whatever came out before the failure is the start of what went in.
            expect(asArrays(result.messages)).toEqual(
              asArrays(messages.slice(0, result.messages.length)),
            );
            const boundary = starts.indexOf(end);
            if (boundary >= 0) {
              // Cutting between frames leaves a shorter but valid body.
              expect(result.error).toBeUndefined();
              expect(result.messages).toHaveLength(boundary);
              continue;
            }
            const frameIndex = starts.findLastIndex((start) => start < end);
            const offset = starts[frameIndex]!;
            const expected = {
              code: end - offset < 4 ? 'truncated_length' : 'truncated_payload',
              frameIndex,
              offset,
            };
            expect(describeError(result.error)).toEqual(expected);
            expect(result.messages).toHaveLength(frameIndex);
            expect(() => decodeFrames(truncated)).toThrow(expect.objectContaining(expected));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('only ever yields messages or throws FramingError on random bytes, the same either way', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 64 }),
        cutsArb,
        (body, maxMessageBytes, cuts) => {
          const incremental = feed(split(body, cuts), maxMessageBytes);
          let whole: { messages?: number[][]; error?: ReturnType<typeof describeError> };
          try {
            whole = { messages: asArrays(decodeFrames(body, { maxMessageBytes })) };
          } catch (error) {
            whole = { error: describeError(error) };
          }
          if (incremental.error === undefined) {
            expect(whole).toEqual({ messages: asArrays(incremental.messages) });
            return;
          }
          const error = describeError(incremental.error);
          expect(whole).toEqual({ error });
          // The messages before the failure are exactly the frames before the offending one.
          expect(asArrays(incremental.messages)).toEqual(
            asArrays(decodeFrames(body.subarray(0, error.offset), { maxMessageBytes })),
          );
        },
      ),
    );
  });

  it('rejects an oversize frame on its 4-byte prefix alone, before its payload', () => {
    fc.assert(
      fc.property(
        messagesArb,
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        cutsArb,
        (messages, limit, excess, cuts) => {
          const length = Math.min(limit + excess, 2 ** 32 - 1);
          const fitting = messages.filter((message) => message.length <= limit);
          const valid = encodeFrames(fitting);
          const header = new Uint8Array(4);
          new DataView(header.buffer).setUint32(0, length, true);
          const decoder = new FrameDecoder({ maxMessageBytes: limit });
          for (const chunk of split(valid, cuts)) decoder.push(chunk);
          // Only the prefix is fed: the decoder must not wait for a payload to judge it.
          expect(() => decoder.push(header)).toThrow(
            expect.objectContaining({
              code: 'message_too_large',
              frameIndex: fitting.length,
              offset: valid.length,
            }),
          );
          expect(decoder.framesDecoded).toBe(fitting.length);
        },
      ),
    );
  });

  it('accepts frames of exactly the limit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (message) => {
        const body = encodeFrames([message, message]);
        expect(decodeFrames(body, { maxMessageBytes: message.length })).toHaveLength(2);
        expect(feed([body], message.length).error).toBeUndefined();
      }),
    );
  });
});
