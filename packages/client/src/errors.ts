import { ERROR_CODES, isErrorCode, type ErrorCode } from '@kproxy/protocol';

/** Error codes the SDK produces itself, without a server answer. */
export type LocalErrorCode =
  | 'network_error'
  | 'certificate_error'
  | 'timeout'
  | 'aborted'
  | 'client_closed'
  | 'queue_full'
  | 'message_too_large'
  | 'invalid_topic'
  | 'invalid_option'
  | 'http_error'
  | 'invalid_response';

/**
 * A stable error code: one of {@link LocalErrorCode}, the server's `error` code (an `ErrorCode` of
 * `@kproxy/protocol`, for example `unauthorized`, `truncated_frame`, `kafka_unavailable`), or the
 * `error` of a JSON answer from something in front of the server.
 */
export type KafkaProxyErrorCode = LocalErrorCode | ErrorCode | (string & {});

export interface KafkaProxyErrorOptions {
  status?: number | undefined;
  retriable?: boolean;
  attempts?: number;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/**
 * The one error class of `@kproxy/client`. `code` is stable and safe to branch on; `status` is
 * the HTTP status when the server answered; `retriable` says whether sending the same request
 * again may succeed (the client has already retried it `attempts - 1` times when it gives up).
 *
 * @example
 * ```ts
 * try {
 *   await client.send('hello');
 * } catch (err) {
 *   if (err instanceof KafkaProxyError && err.code === 'unauthorized') {
 *     console.error('check KPROXY_TOKEN');
 *   }
 * }
 * ```
 */
export class KafkaProxyError extends Error {
  override readonly name = 'KafkaProxyError';
  readonly code: KafkaProxyErrorCode;
  readonly status: number | undefined;
  readonly retriable: boolean;
  /** How many HTTP attempts were made before this error was final (0 if none was made). */
  attempts: number;
  /** Delay the server asked for with `Retry-After`, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(code: KafkaProxyErrorCode, message: string, options: KafkaProxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retriable = options.retriable ?? false;
    this.attempts = options.attempts ?? 0;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Whether an HTTP error answer is worth retrying. An answer with one of the server's codes is as
 * retriable as the contract says that code is (its 503s; not `kafka_rejected`'s 502, which Kafka
 * would refuse again). Anything else (no JSON, or a code the server never sends: an ingress, a
 * load balancer) is judged by its status: 429, 502, 503 and 504 may pass on a later try.
 */
export function isRetriableAnswer(status: number, code: string | undefined): boolean {
  if (isErrorCode(code)) return ERROR_CODES[code].retriable;
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * Type guard for {@link KafkaProxyError}, handy in `catch` clauses and promise rejections.
 *
 * @example
 * ```ts
 * const result = await client.send('x').catch((err: unknown) => {
 *   if (isKafkaProxyError(err) && err.retriable) return undefined; // try again later
 *   throw err;
 * });
 * ```
 */
export function isKafkaProxyError(err: unknown): err is KafkaProxyError {
  return err instanceof KafkaProxyError;
}
