import { type FramingError, messageTooLarge, truncatedLength, truncatedPayload } from './errors.js';
import { type DecodeOptions, FRAME_HEADER_BYTES, resolveMaxMessageBytes } from './options.js';

// Marks "between frames": the next byte starts a length prefix.
const AWAITING_HEADER = -1;

/**
 * Decodes frames from chunks split anywhere, even inside a length prefix. `push` returns the
 * messages each chunk completes; `end` throws if the input stopped inside a frame. A frame that
 * lies within one chunk is returned as a view of that chunk; only frames spanning chunks are
 * copied, and only once all their bytes arrived, so memory follows the bytes received rather
 * than the lengths claimed. The decoder keeps references to pushed chunks until their frames
 * complete, so do not reuse a chunk's memory after pushing it. After throwing a
 * {@link FramingError} the decoder stays failed and rethrows it.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder({ maxMessageBytes: 1024 * 1024 });
 * for await (const chunk of request) {
 *   for (const message of decoder.push(chunk)) handle(message);
 * }
 * decoder.end();
 * ```
 */
export class FrameDecoder {
  readonly #maxMessageBytes: number;
  #bytesRead = 0;
  #framesDecoded = 0;
  #failure: FramingError | undefined;

  // Where the frame being read starts in the body.
  #frameOffset = 0;
  // A length prefix split across chunks is gathered here.
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  readonly #headerView = new DataView(this.#header.buffer);
  #headerBytes = 0;
  // Payload length of the frame being read, or AWAITING_HEADER.
  #payloadLength = AWAITING_HEADER;
  // Pieces of a payload spanning chunks, held as views until the last piece arrives.
  #pieces: Uint8Array[] = [];
  #pieceBytes = 0;

  constructor(options?: DecodeOptions) {
    this.#maxMessageBytes = resolveMaxMessageBytes(options);
  }

  /** Bytes pushed so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Messages completed so far. */
  get framesDecoded(): number {
    return this.#framesDecoded;
  }

  /** Feeds the next chunk of the body; returns the messages it completes, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    const base = this.#bytesRead;
    this.#bytesRead += chunk.length;
    const messages: Uint8Array[] = [];
    let view: DataView | undefined;
    let position = 0;
    while (position < chunk.length) {
      if (this.#payloadLength === AWAITING_HEADER) {
        this.#frameOffset = base + position - this.#headerBytes;
        if (this.#headerBytes === 0 && chunk.length - position >= FRAME_HEADER_BYTES) {
          view ??= new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          this.#startPayload(view.getUint32(position, true));
          position += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.#headerBytes, chunk.length - position);
          this.#header.set(chunk.subarray(position, position + take), this.#headerBytes);
          this.#headerBytes += take;
          position += take;
          if (this.#headerBytes < FRAME_HEADER_BYTES) break;
          this.#headerBytes = 0;
          this.#startPayload(this.#headerView.getUint32(0, true));
        }
      }
      const missing = this.#payloadLength - this.#pieceBytes;
      const available = chunk.length - position;
      if (available < missing) {
        // An empty piece would force a copy later even if the next chunk holds the whole payload.
        if (available > 0) this.#pieces.push(chunk.subarray(position));
        this.#pieceBytes += available;
        break;
      }
      // A zero-length frame is complete as soon as its prefix is, even at the end of a chunk.
      const tail = chunk.subarray(position, position + missing);
      position += missing;
      messages.push(this.#pieces.length === 0 ? tail : this.#joinPieces(tail));
      this.#finishFrame();
    }
    return messages;
  }

  /** Declares the body complete; throws {@link FramingError} if it stopped inside a frame. */
  end(): void {
    if (this.#failure) throw this.#failure;
    if (this.#headerBytes > 0) {
      this.#fail(truncatedLength(this.#framesDecoded, this.#frameOffset, this.#headerBytes));
    }
    if (this.#payloadLength !== AWAITING_HEADER) {
      this.#fail(
        truncatedPayload(
          this.#framesDecoded,
          this.#frameOffset,
          this.#pieceBytes,
          this.#payloadLength,
        ),
      );
    }
  }

  #startPayload(length: number): void {
    // Checked on the prefix alone: an oversize frame must fail before any of it is buffered.
    if (length > this.#maxMessageBytes) {
      this.#fail(
        messageTooLarge(this.#framesDecoded, this.#frameOffset, length, this.#maxMessageBytes),
      );
    }
    this.#payloadLength = length;
  }

  #joinPieces(tail: Uint8Array): Uint8Array {
    const message = new Uint8Array(this.#payloadLength);
    let offset = 0;
    for (const piece of this.#pieces) {
      message.set(piece, offset);
      offset += piece.length;
    }
    message.set(tail, offset);
    return message;
  }

  #finishFrame(): void {
    this.#payloadLength = AWAITING_HEADER;
    this.#pieces = [];
    this.#pieceBytes = 0;
    this.#framesDecoded += 1;
  }

  #fail(error: FramingError): never {
    this.#failure = error;
    throw error;
  }
}
