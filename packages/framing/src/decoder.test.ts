import { describe, expect, it } from 'vitest';
import { FrameDecoder } from './decoder.js';
import { encodeFrames } from './encode.js';
import { FramingError } from './errors.js';

const text = (value: string) => new TextEncoder().encode(value);
const strings = (messages: Uint8Array[]) => messages.map((m) => new TextDecoder().decode(m));

describe('FrameDecoder', () => {
  it('returns the messages each chunk completes', () => {
    const body = encodeFrames([text('ab'), text('cd'), text('ef')]);
    const decoder = new FrameDecoder();
    expect(strings(decoder.push(body.subarray(0, 13)))).toEqual(['ab', 'cd']);
    expect(strings(decoder.push(body.subarray(13)))).toEqual(['ef']);
    decoder.end();
    expect(decoder.framesDecoded).toBe(3);
    expect(decoder.bytesRead).toBe(18);
  });

  it('reassembles a length prefix split across single-byte chunks', () => {
    const body = encodeFrames([text('hello')]);
    const decoder = new FrameDecoder();
    const messages = Array.from(body).flatMap((byte) => decoder.push(Uint8Array.of(byte)));
    decoder.end();
    expect(strings(messages)).toEqual(['hello']);
  });

  it('completes an empty message whose prefix ends the chunk', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Uint8Array.of(1, 0, 0, 0, 0x61, 0, 0))).toHaveLength(1);
    expect(strings(decoder.push(Uint8Array.of(0, 0)))).toEqual(['']);
    decoder.end();
  });

  it('returns a frame within one chunk as a view of that chunk', () => {
    const chunk = encodeFrames([text('abc')]);
    const [message] = new FrameDecoder().push(chunk);
    expect(message?.buffer).toBe(chunk.buffer);
  });

  it('does not copy a payload that arrives whole in the chunk after its prefix', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(3, 0, 0, 0));
    const chunk = text('abc');
    const [message] = decoder.push(chunk);
    expect(message?.buffer).toBe(chunk.buffer);
  });

  it('copies a frame spanning chunks into a buffer of its own', () => {
    const body = encodeFrames([text('abcdef')]);
    const decoder = new FrameDecoder();
    decoder.push(body.subarray(0, 6));
    const [message] = decoder.push(body.subarray(6));
    expect(message?.buffer).not.toBe(body.buffer);
    expect(strings(message ? [message] : [])).toEqual(['abcdef']);
  });

  it('throws on the length prefix of an oversize frame, before any payload arrives', () => {
    const decoder = new FrameDecoder({ maxMessageBytes: 100 });
    decoder.push(encodeFrames([text('ok')]));
    decoder.push(Uint8Array.of(101, 0));
    expect(() => decoder.push(Uint8Array.of(0, 0))).toThrow(
      expect.objectContaining({ code: 'message_too_large', frameIndex: 1, offset: 6 }),
    );
  });

  it('reports a body ending inside a length prefix on end()', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(0, 0, 0, 0, 9));
    expect(() => decoder.end()).toThrow(
      expect.objectContaining({ code: 'truncated_length', frameIndex: 1, offset: 4 }),
    );
  });

  it('reports a body ending inside a payload on end(), with the bytes present', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(5, 0, 0, 0, 1, 2));
    decoder.push(Uint8Array.of(3));
    expect(() => decoder.end()).toThrow(
      'body ends inside the payload of frame 0 at byte offset 0: 3 of 5 bytes present',
    );
  });

  it('reports a payload that never started as 0 bytes present', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(5, 0, 0, 0));
    expect(() => decoder.end()).toThrow(/0 of 5 bytes present/);
  });

  it('stays failed after an error and rethrows the same error', () => {
    const decoder = new FrameDecoder({ maxMessageBytes: 0 });
    const thrown = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const first = thrown(() => decoder.push(Uint8Array.of(1, 0, 0, 0)));
    expect(first).toBeInstanceOf(FramingError);
    expect(thrown(() => decoder.push(new Uint8Array(4)))).toBe(first);
    expect(thrown(() => decoder.end())).toBe(first);
  });

  it('accepts empty chunks anywhere', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(new Uint8Array(0))).toEqual([]);
    decoder.push(Uint8Array.of(2, 0));
    decoder.push(new Uint8Array(0));
    decoder.push(Uint8Array.of(0, 0, 0x61));
    decoder.push(new Uint8Array(0));
    expect(strings(decoder.push(Uint8Array.of(0x62)))).toEqual(['ab']);
    decoder.end();
  });

  it('validates its options when constructed', () => {
    expect(() => new FrameDecoder({ maxMessageBytes: -1 })).toThrow(RangeError);
  });

  it('rejects a chunk that is not a Uint8Array with a TypeError', () => {
    expect(() => new FrameDecoder().push('abcd' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
