import { messageTooLarge, truncatedLength, truncatedPayload } from './errors.js';
import { type DecodeOptions, FRAME_HEADER_BYTES, resolveMaxMessageBytes } from './options.js';

/**
 * Splits a whole body into its messages. The messages are views into `body` (no copies), so
 * they change if `body` is modified afterwards. Throws {@link FramingError} if the body ends
 * inside a frame or a frame is larger than `maxMessageBytes`; nothing is returned in that case,
 * which suits an all-or-nothing request.
 *
 * @example
 * ```ts
 * const messages = decodeFrames(new Uint8Array(await request.arrayBuffer()), {
 *   maxMessageBytes: 1024 * 1024,
 * });
 * console.log(`${messages.length} messages received`);
 * ```
 */
export function decodeFrames(body: Uint8Array, options?: DecodeOptions): Uint8Array[] {
  const maxMessageBytes = resolveMaxMessageBytes(options);
  if (!(body instanceof Uint8Array)) throw new TypeError('body must be a Uint8Array');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const messages: Uint8Array[] = [];
  let offset = 0;
  while (offset < body.length) {
    const frameIndex = messages.length;
    const remaining = body.length - offset;
    if (remaining < FRAME_HEADER_BYTES) throw truncatedLength(frameIndex, offset, remaining);
    const length = view.getUint32(offset, true);
    if (length > maxMessageBytes) {
      throw messageTooLarge(frameIndex, offset, length, maxMessageBytes);
    }
    const start = offset + FRAME_HEADER_BYTES;
    const present = body.length - start;
    if (present < length) throw truncatedPayload(frameIndex, offset, present, length);
    messages.push(body.subarray(start, start + length));
    offset = start + length;
  }
  return messages;
}
