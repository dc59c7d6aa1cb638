import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeFrames } from './encode.js';

const text = (value: string) => new TextEncoder().encode(value);

describe('encodeFrame', () => {
  it('prefixes the message with its length as 4 little-endian bytes', () => {
    const frame = encodeFrame(text('This is a test'));
    expect(Array.from(frame.subarray(0, 4))).toEqual([0x0e, 0, 0, 0]);
    expect(new TextDecoder().decode(frame.subarray(4))).toBe('This is a test');
  });

  it('frames an empty message as a zero length and nothing else', () => {
    expect(Array.from(encodeFrame(new Uint8Array(0)))).toEqual([0, 0, 0, 0]);
  });

  it('writes lengths above 255 little-endian', () => {
    const frame = encodeFrame(new Uint8Array(0x0102));
    expect(Array.from(frame.subarray(0, 4))).toEqual([0x02, 0x01, 0, 0]);
  });

  it('copies the message, so later changes to it do not alter the frame', () => {
    const message = text('abc');
    const frame = encodeFrame(message);
    message[0] = 0x7a;
    expect(frame[4]).toBe(0x61);
  });

  it('frames a view at its own offset within a larger buffer', () => {
    const frame = encodeFrame(text('xxabcxx').subarray(2, 5));
    expect(Array.from(frame)).toEqual([3, 0, 0, 0, 0x61, 0x62, 0x63]);
  });
});

describe('encodeFrames', () => {
  it('puts frames back to back in one body', () => {
    const body = encodeFrames([text('a'), new Uint8Array(0), text('bc')]);
    expect(Array.from(body)).toEqual([1, 0, 0, 0, 0x61, 0, 0, 0, 0, 2, 0, 0, 0, 0x62, 0x63]);
  });

  it('gives an empty body for no messages', () => {
    expect(encodeFrames([]).length).toBe(0);
  });

  it('accepts a one-shot generator', () => {
    function* messages() {
      yield text('a');
      yield text('b');
    }
    expect(encodeFrames(messages()).length).toBe(10);
  });

  it('rejects something that is not a Uint8Array with a TypeError', () => {
    expect(() => encodeFrames(['text' as unknown as Uint8Array])).toThrow(TypeError);
  });
});
