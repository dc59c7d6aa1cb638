import { Agent, request, type Dispatcher } from 'undici';
import { HEADERS } from '@kproxy/protocol';
import { KafkaProxyError } from './errors.js';
import { networkError } from './failure.js';
import { abortedError, parseRetryAfter } from './retry.js';
import type { TlsConnectOptions } from './tls.js';
import { errorFromAnswer } from './wire.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  text: string;
}

/** One HTTP attempt against the proxy: no retries here, only error classification. */
export class Transport {
  readonly #base: URL;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

  constructor(
    base: URL,
    token: string,
    timeoutMs: number,
    dispatcher: Dispatcher | undefined,
    tls: TlsConnectOptions | undefined,
  ) {
    this.#base = base;
    this.#token = token;
    this.#timeoutMs = timeoutMs;
    this.#ownsDispatcher = dispatcher === undefined;
    this.#dispatcher =
      dispatcher ??
      new Agent({ keepAliveTimeout: 30_000, connections: 16, ...(tls && { connect: tls }) });
  }

  /** Resolves `path` (which starts with `/`) under the base URL, keeping a path prefix. */
  url(path: string): URL {
    const url = new URL(this.#base.href);
    url.pathname = url.pathname.replace(/\/+$/, '') + path;
    url.search = '';
    url.hash = '';
    return url;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const url = this.url(req.path);
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(url, {
        method: req.method,
        dispatcher: this.#dispatcher,
        headers: { [HEADERS.token]: this.#token, ...req.headers },
        body: req.body ?? null,
        signal,
      });
      text = await res.body.text();
    } catch (err) {
      if (req.signal?.aborted) throw abortedError(req.signal);
      if (timeout.aborted) {
        throw new KafkaProxyError(
          'timeout',
          `no answer from ${url.origin} within ${this.#timeoutMs} ms`,
          { retriable: true, cause: err },
        );
      }
      throw networkError(url, err);
    }
    const header = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const out: HttpResponse = {
      status: res.statusCode,
      contentType: header('content-type') ?? '',
      text,
    };
    if (res.statusCode >= 200 && res.statusCode < 300) return out;
    throw errorFromAnswer(out, url, parseRetryAfter(header(HEADERS.retryAfter)));
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  destroy(): void {
    if (this.#ownsDispatcher) void this.#dispatcher.destroy().catch(() => undefined);
  }
}
