/**
 * Why a body is malformed. Stable strings: the server maps them to HTTP statuses and clients may
 * branch on them, so they never change meaning.
 */
export type FramingErrorCode =
  'truncated_length' | 'truncated_payload' | 'message_too_large' | 'malformed_record';

/**
 * The one error every decoder throws for a malformed body. `code` says what is wrong,
 * `frameIndex` (0-based) which frame, and `offset` the byte in the body where that frame starts,
 * so a producer can find the bad spot in what it sent.
 *
 * @example
 * ```ts
 * try {
 *   decodeFrames(body, { maxMessageBytes: 1024 });
 * } catch (error) {
 *   if (error instanceof FramingError && error.code === 'message_too_large') {
 *     console.log(`frame ${error.frameIndex} at byte ${error.offset} is too large`);
 *   }
 * }
 * ```
 */
export class FramingError extends Error {
  readonly code: FramingErrorCode;
  readonly frameIndex: number;
  readonly offset: number;

  constructor(
    code: FramingErrorCode,
    message: string,
    location: { frameIndex: number; offset: number },
  ) {
    super(message);
    this.name = 'FramingError';
    this.code = code;
    this.frameIndex = location.frameIndex;
    this.offset = location.offset;
  }
}

// The constructors below keep the wording identical across the whole-buffer and the incremental
// decoder, so a body gets the same message whichever way it was read.

export function truncatedLength(frameIndex: number, offset: number, present: number): FramingError {
  return new FramingError(
    'truncated_length',
    `body ends inside the length prefix of frame ${frameIndex} at byte offset ${offset}: ` +
      `${present} of 4 bytes present`,
    { frameIndex, offset },
  );
}

export function truncatedPayload(
  frameIndex: number,
  offset: number,
  present: number,
  length: number,
): FramingError {
  return new FramingError(
    'truncated_payload',
    `body ends inside the payload of frame ${frameIndex} at byte offset ${offset}: ` +
      `${present} of ${length} bytes present`,
    { frameIndex, offset },
  );
}

export function messageTooLarge(
  frameIndex: number,
  offset: number,
  length: number,
  maxMessageBytes: number,
): FramingError {
  return new FramingError(
    'message_too_large',
    `frame ${frameIndex} at byte offset ${offset} declares a ${length}-byte message, ` +
      `more than the ${maxMessageBytes}-byte limit`,
    { frameIndex, offset },
  );
}
