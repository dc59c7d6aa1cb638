import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Server, ServerResponse } from 'node:http';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import type { ProxyApp } from './app.js';
import type { Config } from './config.js';
import type { Producer } from './producer.js';
import type { TopicStore } from './topic-store.js';

/** A listening server and its graceful shutdown. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  /**
   * SPEC §4's graceful shutdown: readiness 503, stop accepting connections, let in-flight requests
   * finish, flush the buffer, disconnect the producer. Resolves when all of that is done.
   */
  shutdown(): Promise<void>;
  /** Drops every connection now (the second signal, or a shutdown that ran out of time). */
  forceClose(): void;
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
const CLIENT_ERRORS: Record<
  string,
  { status: number; reason: string; code: string; message: string }
> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'headers_too_large',
    message: 'the request line and headers are larger than the server accepts',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    code: 'request_timeout',
    message: 'the request was not received within KAFKA_PROXY_REQUEST_TIMEOUT',
  },
};
const MALFORMED = {
  status: 400,
  reason: 'Bad Request',
  code: 'bad_request',
  message: 'the request is not valid HTTP/1.1',
};

/**
 * Answers what Node's HTTP parser refuses (malformed or smuggling-prone framing, oversized headers,
 * requests past the timeout) in the same JSON error format as every other error, then closes the
 * connection: after a framing error nothing more on it can be trusted.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  const refusal = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify({ error: refusal.code, message: refusal.message });
  socket.end(
    `HTTP/1.1 ${String(refusal.status)} ${refusal.reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${String(Buffer.byteLength(body))}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
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
      fetch: proxy.app.fetch,
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
    s.once('error', reject);
  });
  server.on('clientError', answerClientError);
  // Longer than the idle timeouts of common load balancers and ingresses (60 s), so they never
  // send a request on a connection the server is closing at that very moment.
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const shownHost = host ?? '127.0.0.1';
  const url = `${tls ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  logger.info({ url, tls }, 'listening');

  let shuttingDown: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    shutdown() {
      shuttingDown ??= (async () => {
        logger.info('shutting down: refusing new connections, finishing requests');
        proxy.beginShutdown();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        logger.info('connections closed; flushing the buffer');
        await proxy.drain();
        await producer.disconnect();
        await topicStore.close();
        logger.info('shutdown complete');
      })();
      return shuttingDown;
    },
    forceClose() {
      server.closeAllConnections();
    },
  };
}
