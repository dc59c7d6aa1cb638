import type { Writable } from 'node:stream';
import { HEADERS } from '@kproxy/protocol';
import { pino, type DestinationStream, type Logger } from 'pino';

/** Headers that carry credentials: censored wherever a log line includes request headers. */
export const REDACTED_PATHS = [
  `headers["${HEADERS.token}"]`,
  'headers.authorization',
  `req.headers["${HEADERS.token}"]`,
  'req.headers.authorization',
  'token',
];

/**
 * Log bytes that may wait for a slow or stalled reader of stdout: about 13,000 request lines,
 * small next to the message buffer, and enough to ride out a log shipper's pause of a few seconds.
 */
export const DEFAULT_MAX_PENDING_LOG_BYTES = 4 * 1024 * 1024;

/**
 * Where the logger writes: stdout by default, never blocking and never growing without bound
 * (see "Operations" in apps/server/README.md). Lines go through the stream's own asynchronous
 * writes; a line that would take the bytes waiting for the reader past `maxPendingBytes` is
 * dropped and counted, and so is every line once the output failed (the reader exited: EPIPE).
 * pino's default destination instead retries failed writes synchronously when the process exits,
 * so a stalled or dead stdout held the process forever; with this one, exiting loses the lines
 * still waiting, never the process.
 *
 * @example
 * const output = new LogOutput(process.stdout, 1024 * 1024);
 * const logger = createLogger('info', output);
 * output.dropped; // lines that did not fit
 */
export class LogOutput implements DestinationStream {
  /** Lines dropped since the start. */
  dropped = 0;
  /** Called (later, outside the write) with the lines dropped, once a line fits again. */
  onResumed: ((dropped: number) => void) | undefined;
  private droppedSinceResume = 0;
  private failed = false;

  constructor(
    private readonly out: Writable = process.stdout,
    private readonly maxPendingBytes = DEFAULT_MAX_PENDING_LOG_BYTES,
  ) {
    // Without a listener a failed stdout would throw; after the failure no line can arrive.
    out.on('error', () => {
      this.failed = true;
    });
  }

  write(line: string): void {
    if (
      this.failed ||
      this.out.destroyed ||
      this.out.writableLength + line.length > this.maxPendingBytes
    ) {
      this.dropped += 1;
      this.droppedSinceResume += 1;
      return;
    }
    this.out.write(line);
    if (this.droppedSinceResume > 0) {
      const dropped = this.droppedSinceResume;
      this.droppedSinceResume = 0;
      // Not from inside pino's write: the notice is itself a log line.
      setImmediate(() => this.onResumed?.(dropped));
    }
  }
}

/**
 * Log lines `logger` (or the logger it is a child of) dropped because its output was not read
 * fast enough or had failed; 0 for a logger writing elsewhere than a {@link LogOutput}.
 */
export function droppedLogLines(logger: Logger): number {
  const output = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  return output instanceof LogOutput ? output.dropped : 0;
}

/**
 * The server's JSON logger, on a bounded, non-blocking stdout ({@link LogOutput}) unless told
 * otherwise. Tokens are never logged on purpose; redaction is the safety net for a future log line
 * that includes headers.
 *
 * @example
 * const logger = createLogger('info');
 */
export function createLogger(
  level: string,
  destination: DestinationStream = new LogOutput(),
): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'kafka-proxy' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
    },
    destination,
  );
  if (destination instanceof LogOutput) {
    destination.onResumed = (dropped) =>
      logger.warn({ droppedLogLines: dropped }, 'log lines dropped: stdout was not read in time');
  }
  return logger;
}
