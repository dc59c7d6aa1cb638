import { KafkaProxyClient, type KafkaProxyClientOptions } from '@kproxy/client';
import { CliError } from './errors.js';
import type { CliIO } from './io.js';

/** Options every command that talks to the proxy takes. */
export interface ConnectionFlags {
  url?: string;
  token?: string;
  timeout?: number;
}

/** Builds a client from flags, falling back to `KPROXY_URL` / `KPROXY_TOKEN`. */
export function connect(
  flags: ConnectionFlags,
  io: CliIO,
  extra: Partial<KafkaProxyClientOptions> = {},
): KafkaProxyClient {
  const url = flags.url ?? io.env.url;
  const token = flags.token ?? io.env.token;
  if (url === undefined || url === '') {
    throw new CliError('no proxy URL: pass --url <url> or set KPROXY_URL', 2);
  }
  if (token === undefined || token === '') {
    throw new CliError('no token: pass --token <token> or set KPROXY_TOKEN', 2);
  }
  const options: KafkaProxyClientOptions = { url, token, ...extra };
  if (flags.timeout !== undefined) options.requestTimeoutMs = flags.timeout;
  try {
    return new KafkaProxyClient(options);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}
