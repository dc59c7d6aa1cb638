import { FrameDecoder } from './decoder.js';
import type { DecodeOptions } from './options.js';

/**
 * Decodes a streamed body, yielding each message as soon as its last byte arrives. Accepts
 * anything async-iterable over byte chunks (a Node `Readable`, an `IncomingMessage`, an async
 * generator) and web `ReadableStream`s, including in browsers that cannot iterate them. Throws
 * {@link FramingError} where the body is malformed, after yielding the messages of the chunks
 * before it. Stopping early (`break`, or an error) cancels or destroys the source.
 *
 * @example
 * ```ts
 * const response = await fetch(url);
 * for await (const message of decodeFrameStream(response.body!, { maxMessageBytes: 1 << 20 })) {
 *   handle(message);
 * }
 * ```
 */
export function decodeFrameStream(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options?: DecodeOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  // Validated here rather than in the generator, so mistakes surface at the call.
  const decoder = new FrameDecoder(options);
  return decodeChunks(chunksOf(source), decoder);
}

async function* decodeChunks(
  chunks: AsyncIterable<Uint8Array>,
  decoder: FrameDecoder,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of chunks) {
    yield* decoder.push(chunk);
  }
  decoder.end();
}

function chunksOf(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncIterable<Uint8Array> {
  // Web streams first: not every browser makes them async-iterable, but all have getReader.
  if (isWebStream(source)) return readWebStream(source);
  if (source != null && typeof source[Symbol.asyncIterator] === 'function') return source;
  throw new TypeError('source must be an async iterable of Uint8Array chunks or a ReadableStream');
}

function isWebStream(source: unknown): source is ReadableStream<Uint8Array> {
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as { getReader?: unknown }).getReader === 'function'
  );
}

async function* readWebStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    // The consumer stopped early or decoding failed: tell the producer to stop sending.
    // A stream that already errored rejects the cancel with that same error, already reported.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
