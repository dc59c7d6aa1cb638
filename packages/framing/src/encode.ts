import { FRAME_HEADER_BYTES, MAX_FRAME_LENGTH } from './options.js';

/**
 * Frames one message: its length as 4 little-endian bytes, then the message itself, in a new
 * buffer. To frame several messages for one body, {@link encodeFrames} avoids a copy per message.
 *
 * @example
 * ```ts
 * encodeFrame(new TextEncoder().encode('This is a test'));
 * // Uint8Array [0x0e, 0x00, 0x00, 0x00, 0x54, 0x68, ...]
 * ```
 */
export function encodeFrame(message: Uint8Array): Uint8Array<ArrayBuffer> {
  return encodeFrames([message]);
}

/**
 * Frames messages back to back into one body, allocating it once. An empty iterable gives an
 * empty body, which decodes to zero messages.
 *
 * @example
 * ```ts
 * const encoder = new TextEncoder();
 * const body = encodeFrames([encoder.encode('first'), encoder.encode('second')]);
 * await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
 * ```
 */
export function encodeFrames(messages: Iterable<Uint8Array>): Uint8Array<ArrayBuffer> {
  // Materialised once: the iterable may be a generator that cannot be walked twice.
  const list = Array.from(messages);
  let total = 0;
  for (const [index, message] of list.entries()) {
    if (!(message instanceof Uint8Array)) {
      throw new TypeError(`message ${index} must be a Uint8Array`);
    }
    if (message.length > MAX_FRAME_LENGTH) {
      throw new RangeError(
        `message ${index} is ${message.length} bytes; a frame holds at most ${MAX_FRAME_LENGTH}`,
      );
    }
    total += FRAME_HEADER_BYTES + message.length;
  }
  const body = new Uint8Array(total);
  const view = new DataView(body.buffer);
  let offset = 0;
  for (const message of list) {
    view.setUint32(offset, message.length, true);
    body.set(message, offset + FRAME_HEADER_BYTES);
    offset += FRAME_HEADER_BYTES + message.length;
  }
  return body;
}
