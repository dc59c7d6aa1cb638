/** Bytes in a frame's length prefix: a little-endian unsigned 32-bit integer. */
export const FRAME_HEADER_BYTES = 4;

/**
 * The message size limit used when a decoder is given none: 16 MiB. Large enough for the Avro
 * records kafka-proxy carries, small enough that one bad length prefix cannot exhaust memory.
 *
 * @example
 * ```ts
 * decodeFrames(body, { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES / 16 }); // 1 MiB
 * ```
 */
export const DEFAULT_MAX_MESSAGE_BYTES: number = 16 * 1024 * 1024;

// The largest length a 4-byte prefix can express; a higher limit would be meaningless.
export const MAX_FRAME_LENGTH = 0xffff_ffff;

/**
 * Options shared by every decoder. `maxMessageBytes` is the largest payload accepted, checked
 * as soon as a frame's length prefix is read, before any of its payload is buffered.
 *
 * @example
 * ```ts
 * const options: DecodeOptions = { maxMessageBytes: 1024 * 1024 };
 * const messages = decodeFrames(body, options);
 * ```
 */
export interface DecodeOptions {
  /** Largest accepted message in bytes, 0 to 2^32-1; defaults to {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  // `| undefined` lets callers forward an optional config value without spreading.
  maxMessageBytes?: number | undefined;
}

export function resolveMaxMessageBytes(options: DecodeOptions | undefined): number {
  const value = options?.maxMessageBytes;
  if (value === undefined) return DEFAULT_MAX_MESSAGE_BYTES;
  if (typeof value !== 'number') {
    throw new TypeError(`maxMessageBytes must be a number, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > MAX_FRAME_LENGTH) {
    throw new RangeError(
      `maxMessageBytes must be an integer from 0 to ${MAX_FRAME_LENGTH}, got ${value}`,
    );
  }
  return value;
}
