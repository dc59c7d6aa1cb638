import { KafkaProxyError } from '@kproxy/client';

/**
 * The CLI's error: a message for the user and the exit code to leave with (2 for a wrong
 * invocation, 1 when the operation itself failed, 130 when interrupted by Ctrl-C).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 130 = 1,
  ) {
    super(message);
  }
}

/** One readable line for any error, naming status, code and attempts when there are some. */
export function describeError(err: unknown): string {
  if (err instanceof KafkaProxyError) {
    const status = err.status === undefined ? '' : `${err.status} `;
    const attempts = err.attempts > 1 ? ` (after ${err.attempts} attempts)` : '';
    const hint =
      err.status === 401
        ? ' - check --token or KPROXY_TOKEN'
        : err.code === 'network_error'
          ? ' - check --url or KPROXY_URL'
          : '';
    return `${status}${err.code}: ${err.message}${attempts}${hint}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
