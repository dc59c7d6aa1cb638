import { randomUUID } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import {
  STATUS_CODES,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { finished } from 'node:stream';
import { serve, type Http2Bindings, type HttpBindings } from '@hono/node-server';
import { CONTENT_TYPES, HEADERS } from '@kproxy/protocol';
import type { Logger } from 'pino';
import { requestIdFor, type ProxyApp } from './app.js';
import type { Config } from './config.js';
import { ProxyError } from './errors.js';
import { droppedLogLines } from './logger.js';
import type { Producer } from './producer.js';
import type { TopicStore } from './topic-store.js';

/** A listening server and its graceful shutdown. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  /** Base URL of the management listener (`KAFKA_PROXY_METRICS_PORT`), when there is one. */
  readonly managementUrl: string | undefined;
  /**
   * The graceful shutdown (apps/server/README.md, "Delivery"): readiness 503, stop accepting connections, let in-flight requests
   * finish, flush the buffer, disconnect the producer. Resolves when all of that is done.
   */
  shutdown(): Promise<void>;
  /** Drops every connection now (the second signal, or a shutdown that ran out of time). */
  forceClose(): void;
}

/**
 * The server could not listen where it was told to (the port is taken, needs privileges, or the
 * address is not this machine's). `main` logs the message, which names the setting to change,
 * and exits with code 3.
 */
export class ListenError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

/** The listen failures an operator fixes by a setting, with the setting named; else `error`. */
function listenFailure(
  error: NodeJS.ErrnoException,
  where: { host: string | undefined; port: number; hostVar: string; portVar: string },
): Error {
  const address = `${where.host ?? 'all interfaces'} port ${String(where.port)}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new ListenError(
        error.code,
        `cannot listen on ${address}: the port is already in use; set ${where.portVar} to a free port`,
      );
    case 'EACCES':
      return new ListenError(
        error.code,
        `cannot listen on ${address}: permission denied (ports below 1024 need privileges); set ${where.portVar} to a port above 1023`,
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(
        error.code,
        `cannot listen on ${address}: not an address of this machine; set ${where.hostVar} to one of its addresses, or 0.0.0.0 for all`,
      );
    default:
      return error;
  }
}

/** What {@link startServer} serves and shuts down. */
export interface ServerParts {
  proxy: ProxyApp;
  config: Config;
  logger: Logger;
  producer: Producer;
  topicStore: TopicStore;
}

/** Node's own refusals of a request it could not parse or that took too long, by error code. */
const CLIENT_ERRORS: Record<string, ProxyError> = {
  HPE_HEADER_OVERFLOW: new ProxyError(
    'headers_too_large',
    'the request line and headers are larger than the server accepts',
  ),
  ERR_HTTP_REQUEST_TIMEOUT: new ProxyError(
    'request_timeout',
    'the request was not received within KAFKA_PROXY_REQUEST_TIMEOUT',
  ),
};
const MALFORMED = new ProxyError('bad_request', 'the request is not valid HTTP/1.1');
const UNSUPPORTED_TRANSFER_CODING = new ProxyError(
  'unsupported_transfer_coding',
  'the only transfer coding the server decodes is chunked; use Content-Encoding for compression',
);

/** The header fields of a refusal, the connection always closing after it. */
function refusalHead(requestId: string, body: string): Record<string, string> {
  return {
    'content-type': `${CONTENT_TYPES.json}; charset=utf-8`,
    'content-length': String(Buffer.byteLength(body)),
    [HEADERS.requestId]: requestId,
    connection: 'close',
  };
}

const refusalBody = (refusal: ProxyError): string => JSON.stringify(refusal.reply());

/**
 * What the framing of a request's `Transfer-Encoding` calls for, if the app must not see it.
 * RFC 9112 §6.3: when chunked is not the final coding the body's length is unknown (400); §6.1: a
 * coding the server does not understand gets 501. Node's parser leaves both to the server, and
 * would hand `gzip, chunked` over undecoded: gzip bytes taken for frames.
 */
function transferCodingRefusal(headers: IncomingHttpHeaders): ProxyError | undefined {
  const header = headers['transfer-encoding'];
  if (header === undefined) return undefined;
  const codings = header
    .split(',')
    .map((coding) => coding.split(';')[0]?.trim().toLowerCase() ?? '')
    .filter((coding) => coding !== '');
  if (codings.at(-1) !== 'chunked') return MALFORMED;
  return codings.length === 1 ? undefined : UNSUPPORTED_TRANSFER_CODING;
}

type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/** Calls `then` once every response attached to `socket` has been written in full. */
function afterResponses(socket: HttpSocket, then: () => void): void {
  const response = socket._httpMessage;
  if (response === null || response === undefined || response.writableFinished) {
    then();
    return;
  }
  // Node attaches the next pipelined response once this one finished: look again after that.
  finished(response, () => setImmediate(() => afterResponses(socket, then)));
}

/**
 * Answers what Node's HTTP parser refuses (malformed or smuggling-prone framing, oversized headers,
 * requests past the timeout) in the same JSON error format as every other error, then closes the
 * connection: after a framing error nothing more on it can be trusted.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: HttpSocket): void {
  // The parser reports every later chunk of a broken connection again.
  if (refusing.has(socket)) return;
  refusing.add(socket);
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // A request received in full before the bytes that do not parse (a Content-Length shorter than
  // the body) was valid and may already be produced: the client gets its answer first, in full,
  // then the refusal. A request the bad bytes are part of cannot be answered any more.
  const response = socket._httpMessage;
  const receivedInFull = response?.req.complete === true;
  if (!receivedInFull && response?.headersSent === true) {
    socket.destroy();
    return;
  }
  const refusal = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
  const body = refusalBody(refusal);
  // The request could not be read, so no id the client sent can be trusted: a new one.
  const head = refusalHead(randomUUID(), body);
  const refuse = (): void => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(
      `HTTP/1.1 ${String(refusal.status)} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
        Object.entries(head)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        `\r\n${body}`,
    );
  };
  if (receivedInFull) afterResponses(socket, refuse);
  else refuse();
}
const refusing = new WeakSet<Socket>();

/** The app behind the refusals the HTTP layer makes for requests it parsed. */
function withHttpRefusals(
  proxy: ProxyApp,
): (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response> {
  return (request, env) => {
    const { headers } = env.incoming;
    const refusal = transferCodingRefusal(headers);
    if (refusal === undefined) return proxy.app.fetch(request, env);
    const body = refusalBody(refusal);
    const requestId = requestIdFor(headers[HEADERS.requestId]?.toString());
    return new Response(body, { status: refusal.status, headers: refusalHead(requestId, body) });
  };
}

/**
 * How long idle keep-alive connections stay open once shutdown began. Long enough for a client
 * (or an ingress) that picked one for its next request when the signal came to send it and read
 * the 503; short against the shutdown timeout and the time Kubernetes takes to stop routing.
 */
const IDLE_CONNECTION_GRACE_MS = 1_000;
/** How often, after the grace period, connections that turned idle are closed. */
const IDLE_SWEEP_MS = 100;

/** `http://host:port` for a listening server, brackets around an IPv6 host. */
function baseUrl(scheme: string, host: string | undefined, server: Server): string {
  const shown = host ?? '127.0.0.1';
  const { port } = server.address() as AddressInfo;
  return `${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${String(port)}`;
}

/** Starts the management listener: plain HTTP, only what {@link ProxyApp.management} serves. */
async function listenManagement(
  proxy: ProxyApp,
  where: NonNullable<Config['management']>,
): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = serve({
      fetch: proxy.management.fetch,
      port: where.port,
      ...(where.host === undefined ? {} : { hostname: where.host }),
    }) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        listenFailure(error, {
          ...where,
          hostVar: 'KAFKA_PROXY_METRICS_HOST (--metrics-host)',
          portVar: 'KAFKA_PROXY_METRICS_PORT (--metrics-port)',
        }),
      ),
    );
  });
}

/**
 * Listens on the configured address, over HTTPS when a certificate and key are configured.
 *
 * @example
 * const server = await startServer({ proxy, config, logger, producer, topicStore });
 * process.once('SIGTERM', () => void server.shutdown());
 */
export async function startServer(parts: ServerParts): Promise<RunningServer> {
  const { proxy, config, logger, producer, topicStore } = parts;
  const { host, port, tlsCert, tlsKey } = config.http;
  const tls = tlsCert !== undefined && tlsKey !== undefined;
  const { requestTimeoutMs } = config.http;
  // A client that dribbles its request (slowloris) holds a socket and, mid-body, buffer budget:
  // Node answers 408 and closes the connection once the request took longer than
  // `requestTimeout`. Timeouts are checked every `connectionsCheckingInterval` (Node's default
  // 30 s; shorter for short timeouts, so they are not overshot many times over).
  const timeouts = {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(66_000, requestTimeoutMs),
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.ceil(requestTimeoutMs / 4))),
  };
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({
      fetch: withHttpRefusals(proxy),
      port,
      ...(host === undefined ? {} : { hostname: host }),
      ...(tls
        ? {
            createServer: createHttpsServer,
            serverOptions: { cert: tlsCert, key: tlsKey, ...timeouts },
          }
        : { serverOptions: timeouts }),
    }) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        listenFailure(error, {
          host,
          port,
          hostVar: 'KAFKA_PROXY_HOST (--host)',
          portVar: 'KAFKA_PROXY_PORT (--port)',
        }),
      ),
    );
  });
  server.on('clientError', answerClientError);
  // Longer than the idle timeouts of common load balancers and ingresses (60 s), so they never
  // send a request on a connection the server is closing at that very moment.
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const url = baseUrl(tls ? 'https' : 'http', host, server);
  logger.info({ url, tls }, 'listening');
  let management: Server | undefined;
  let managementUrl: string | undefined;
  if (config.management !== undefined) {
    try {
      management = await listenManagement(proxy, config.management);
    } catch (error) {
      server.close();
      throw error;
    }
    managementUrl = baseUrl('http', config.management.host, management);
    // Not "listening": launchers take the URL of the line saying that as the main port's.
    logger.info({ url: managementUrl }, 'metrics port open');
  }

  let shuttingDown: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    managementUrl,
    shutdown() {
      shuttingDown ??= (async () => {
        logger.info('shutting down: refusing new connections, finishing requests');
        proxy.beginShutdown();
        // http.Server#close() would also destroy the idle keep-alive connections at once, and a
        // request a client is sending on one at that moment would meet a reset. Stop accepting
        // only; for a grace period a request on an idle connection is answered (503
        // shutting_down for a push, `Connection: close` on every response), then the connections
        // still idle are closed, again whenever one turns idle.
        const closed = new Promise<void>((resolve) =>
          NetServer.prototype.close.call(server, () => resolve()),
        );
        const grace = Math.min(IDLE_CONNECTION_GRACE_MS, config.shutdownTimeoutMs / 4);
        let sweeper: NodeJS.Timeout | undefined;
        const sweeping = setTimeout(() => {
          server.closeIdleConnections();
          sweeper = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        }, grace);
        await closed;
        clearTimeout(sweeping);
        clearInterval(sweeper);
        logger.info('connections closed; flushing the buffer');
        await proxy.drain();
        await producer.disconnect();
        await topicStore.close();
        // Last: scrapes and probes see the drain (readiness 503, the buffer emptying) to its end.
        if (management !== undefined) {
          const closing = new Promise<void>((resolve) => management?.close(() => resolve()));
          management.closeAllConnections();
          await closing;
        }
        // Lines a stalled or closed stdout lost: the operator learns of the gap, if stdout reads.
        logger.info({ droppedLogLines: droppedLogLines(logger) }, 'shutdown complete');
      })();
      return shuttingDown;
    },
    forceClose() {
      server.closeAllConnections();
      management?.closeAllConnections();
    },
  };
}
