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
 * A stable error code: one of {@link LocalErrorCode}, or the `error` code the server answered with
 * (for example `unauthorized`, `forbidden`, `malformed_body`, `kafka_unavailable`).
 */
export type KafkaProxyErrorCode = LocalErrorCode | (string & {});

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
 * Whether an HTTP error answer is worth retrying: 429 and 503 always (rate limited, Kafka or the
 * proxy unavailable); 502 and 504 only when they come from something in front of the proxy (an
 * ingress) rather than as the proxy's own JSON error, since the proxy's 502 means Kafka rejected
 * the messages and would reject them again.
 */
export function isRetriableStatus(status: number, fromProxy: boolean): boolean {
  if (status === 429 || status === 503) return true;
  return (status === 502 || status === 504) && !fromProxy;
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
