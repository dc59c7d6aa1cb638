import { readFileSync } from 'node:fs';
import { KafkaProxyClient, type KafkaProxyClientOptions, type TlsOptions } from '@kproxy/client';
import { CliError } from './errors.js';
import type { CliIO } from './io.js';

/** Options every command that talks to the proxy takes. */
export interface ConnectionFlags {
  url?: string;
  token?: string;
  timeout?: number;
  /** PEM file of the CAs to trust, as curl's and kcat's users know it. */
  cacert?: string;
  /** Accept any server certificate (curl's `--insecure`). */
  insecure?: boolean;
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
  const tls = tlsOptions(flags);
  if (tls !== undefined) options.tls = tls;
  try {
    return new KafkaProxyClient(options);
  } catch (err) {
    const message = (err as Error).message;
    // The SDK names its option; the user typed a flag.
    throw new CliError(message.replace(/^tls\.ca /, `--cacert ${flags.cacert ?? ''} `), 2);
  }
}

function tlsOptions(flags: ConnectionFlags): TlsOptions | undefined {
  if (flags.cacert === undefined && flags.insecure !== true) return undefined;
  const tls: TlsOptions = {};
  if (flags.cacert !== undefined) {
    try {
      tls.ca = readFileSync(flags.cacert);
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as Error).message;
      throw new CliError(`cannot read --cacert ${flags.cacert}: ${code}`, 2);
    }
  }
  if (flags.insecure === true) tls.rejectUnauthorized = false;
  return tls;
}
