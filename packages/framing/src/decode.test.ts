import { describe, expect, it } from 'vitest';
import { decodeFrames } from './decode.js';
import { encodeFrames } from './encode.js';
import { FramingError } from './errors.js';

const text = (value: string) => new TextEncoder().encode(value);
const strings = (messages: Uint8Array[]) => messages.map((m) => new TextDecoder().decode(m));

function framingError(run: () => unknown): FramingError {
  try {
    run();
  } catch (error) {
    if (error instanceof FramingError) return error;
    throw error;
  }
  throw new Error('expected a FramingError');
}

describe('decodeFrames', () => {
  it('decodes the example from the specification', () => {
    const body = Uint8Array.of(0x0e, 0, 0, 0, ...text('This is a test'));
    expect(strings(decodeFrames(body))).toEqual(['This is a test']);
  });

  it('decodes empty messages and an empty body', () => {
    expect(strings(decodeFrames(new Uint8Array(8)))).toEqual(['', '']);
    expect(decodeFrames(new Uint8Array(0))).toEqual([]);
  });

  it('returns views into the body rather than copies', () => {
    const body = encodeFrames([text('abc')]);
    const [message] = decodeFrames(body);
    expect(message?.buffer).toBe(body.buffer);
    expect(message?.byteOffset).toBe(4);
  });

  it('decodes a body that is itself a view at an offset', () => {
    const padded = new Uint8Array(20);
    padded.set(encodeFrames([text('hi')]), 3);
    expect(strings(decodeFrames(padded.subarray(3, 9)))).toEqual(['hi']);
  });

  it('rejects a truncated payload with its frame index and offset', () => {
    const body = encodeFrames([text('hello'), text(''), text('This is a test')]);
    const error = framingError(() => decodeFrames(body.subarray(0, body.length - 4)));
    expect(error.code).toBe('truncated_payload');
    expect(error.frameIndex).toBe(2);
    expect(error.offset).toBe(13);
    expect(error.message).toBe(
      'body ends inside the payload of frame 2 at byte offset 13: 10 of 14 bytes present',
    );
    expect(error.name).toBe('FramingError');
    expect(error).toBeInstanceOf(Error);
  });

  it('rejects a truncated length prefix with its frame index and offset', () => {
    const body = Uint8Array.of(...encodeFrames([text('abc')]), 5, 0);
    const error = framingError(() => decodeFrames(body));
    expect(error.code).toBe('truncated_length');
    expect([error.frameIndex, error.offset]).toEqual([1, 7]);
    expect(error.message).toBe(
      'body ends inside the length prefix of frame 1 at byte offset 7: 2 of 4 bytes present',
    );
  });

  it('rejects an oversize frame on its prefix, even when the payload is missing', () => {
    const error = framingError(() =>
      decodeFrames(Uint8Array.of(0, 0, 0, 0, 11, 0, 0, 0), { maxMessageBytes: 10 }),
    );
    expect(error.code).toBe('message_too_large');
    expect([error.frameIndex, error.offset]).toEqual([1, 4]);
    expect(error.message).toBe(
      'frame 1 at byte offset 4 declares a 11-byte message, more than the 10-byte limit',
    );
  });

  it('reads lengths as unsigned, up to 2^32-1', () => {
    const error = framingError(() => decodeFrames(Uint8Array.of(0xff, 0xff, 0xff, 0xff)));
    expect(error.message).toContain('declares a 4294967295-byte message');
  });

  it('accepts a message exactly at the limit', () => {
    expect(strings(decodeFrames(encodeFrames([text('abc')]), { maxMessageBytes: 3 }))).toEqual([
      'abc',
    ]);
  });

  it('rejects a body that is not a Uint8Array with a TypeError', () => {
    expect(() => decodeFrames('body' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('maxMessageBytes validation', () => {
  it.each([0, 1, 2 ** 32 - 1])('accepts %d', (maxMessageBytes) => {
    expect(decodeFrames(new Uint8Array(0), { maxMessageBytes })).toEqual([]);
  });

  it('treats an undefined limit as the default', () => {
    expect(decodeFrames(new Uint8Array(4), { maxMessageBytes: undefined })).toHaveLength(1);
  });

  it.each([-1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects %d with a RangeError',
    (maxMessageBytes) => {
      expect(() => decodeFrames(new Uint8Array(0), { maxMessageBytes })).toThrow(
        /maxMessageBytes must be an integer from 0 to 4294967295/,
      );
      expect(() => decodeFrames(new Uint8Array(0), { maxMessageBytes })).toThrow(RangeError);
    },
  );

  it('rejects a non-number with a TypeError', () => {
    const options = { maxMessageBytes: '1024' as unknown as number };
    expect(() => decodeFrames(new Uint8Array(0), options)).toThrow(TypeError);
    expect(() => decodeFrames(new Uint8Array(0), options)).toThrow(/got string/);
  });
});
