import { randomUUID } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import { HEADERS, ROUTES } from '@kproxy/protocol';
import { Hono, type Context } from 'hono';
import { getPath } from 'hono/utils/url';
import type { Logger } from 'pino';
import { createAuthenticator } from './auth.js';
import { BufferBudget } from './buffer-budget.js';
import type { Config } from './config.js';
import type { AppEnv, ServerContext } from './context.js';
import { errorHeaders, ProxyError } from './errors.js';
import { Flusher } from './flusher.js';
import { droppedLogLines } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Producer } from './producer.js';
import { createManagementApp, registerOpsRoutes } from './routes/ops.js';
import { honoPath } from './routes/paths.js';
import { registerProduceRoutes } from './routes/produce.js';
import { registerTopicRoutes } from './routes/topic.js';
import type { TopicStore } from './topic-store.js';
import { serverVersion } from './version.js';

/** What {@link createApp} is built from; tests pass fakes or real parts. */
export interface AppDependencies {
  config: Config;
  producer: Producer;
  topicStore: TopicStore;
  logger: Logger;
  metrics?: Metrics;
}

/** The server's app with the parts its lifecycle needs. */
export interface ProxyApp {
  /** The hono app: `app.fetch` for a server, `app.request()` in tests. */
  readonly app: Hono<AppEnv>;
  /** What the management listener serves: metrics without a token, and the probes. */
  readonly management: Hono;
  readonly flusher: Flusher;
  readonly metrics: Metrics;
  /** Readiness turns 503 and new produce requests are refused with `shutting_down`. */
  beginShutdown(): void;
  /** Flushes the buffer; resolves when every accepted message was sent (or failed). */
  drain(): Promise<void>;
}

const REQUEST_ID = /^[\w.:/+=@-]{1,128}$/;

/** The client's `x-request-id` when it is a sane one, else a new id. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The request's path as the client sent it, percent-decoded the way hono decodes paths. The URL
 * of the web `Request` has its dot-segments resolved (`/topics/%2e%2e/metrics` is `/metrics`
 * there), so routing on it would serve paths that an ingress admitting only `/topics/*` let
 * through; routed as sent, `.` and `..` are path segments like any other and no route matches
 * them except as a topic name, which refuses them.
 */
function pathAsSent(request: Request, env: unknown): string {
  const target = (env as Partial<HttpBindings> | undefined)?.incoming?.url;
  // Origin-form only: an absolute-form target (`http://host/path`) or `*` keeps the URL's path.
  if (target?.startsWith('/') !== true) return getPath(request);
  // hono's getPath reads nothing but `url`.
  return getPath({ url: `http://h${target}` } as Request);
}

/**
 * Builds the HTTP app from its dependencies. No socket is opened: `startServer` does that, and
 * tests can call `app.request()` directly.
 *
 * @example
 * const { app } = createApp({ config, producer, topicStore, logger });
 * const res = await app.request('/healthz');
 */
export function createApp(deps: AppDependencies): ProxyApp {
  const { config, producer, topicStore, logger } = deps;
  const metrics =
    deps.metrics ??
    createMetrics({ version: serverVersion(), droppedLogLines: () => droppedLogLines(logger) });
  const budget = new BufferBudget(config.limits.maxBufferedBytes, metrics.reservedBytes);
  const flusher = new Flusher({
    producer,
    maxMessages: config.flusher.maxMessages,
    maxBytes: config.flusher.maxBytes,
    maxInFlight: config.flusher.maxInFlight,
    lingerMs: config.flusher.lingerMs,
    metrics,
  });
  const ctx: ServerContext = {
    config,
    producer,
    topicStore,
    logger,
    metrics,
    flusher,
    budget,
    auth: createAuthenticator(config.tokens),
    lifecycle: { shuttingDown: false },
  };

  const app = new Hono<AppEnv>({
    getPath: (request, options) => pathAsSent(request, options?.env),
  });

  // Request id, one log line and metrics per request, whatever the outcome.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFor(c.req.header(HEADERS.requestId));
    c.set('requestId', requestId);
    c.set('route', 'unmatched');
    c.set('logFields', {});
    c.set('logger', logger.child({ reqId: requestId }));
    // Set before the response exists: a header set afterwards makes hono rebuild the response as a
    // web Response, which @hono/node-server then writes through a web stream.
    c.header(HEADERS.requestId, requestId);
    await next();
    // Keep-alive connections must not outlive a graceful shutdown.
    if (ctx.lifecycle.shuttingDown) c.header('connection', 'close');
    const route = c.get('route');
    const status = c.res.status;
    const seconds = (performance.now() - started) / 1000;
    metrics.requests.inc({ route, method: c.req.method, status: String(status) });
    metrics.requestDuration.observe({ route }, seconds);
    c.get('logger').info(
      {
        method: c.req.method,
        path: pathAsSent(c.req.raw, c.env),
        route,
        status,
        durationMs: Math.round(seconds * 1e4) / 10,
        ...c.get('logFields'),
      },
      'request',
    );
  });

  registerProduceRoutes(app, ctx);
  registerTopicRoutes(app, ctx);
  registerOpsRoutes(app, ctx);
  // Every route of the contract, with another method: 405.
  for (const route of Object.values(ROUTES)) {
    app.all(honoPath(route.path), (c) => {
      c.header('allow', route.methods.join(', '));
      throw new ProxyError(
        'method_not_allowed',
        `${c.req.method} is not allowed here; use ${route.methods.join(', ')}`,
      );
    });
  }

  // The one place where errors become HTTP responses.
  const errorResponse = (error: Error, c: Context<AppEnv>): Response => {
    let failure: ProxyError;
    if (error instanceof ProxyError) {
      failure = error;
    } else {
      c.get('logger').error({ err: error }, 'unexpected error');
      failure = new ProxyError('internal', 'internal error');
    }
    if (failure.status >= 500) {
      c.set('logFields', { ...c.get('logFields'), error: failure.code, reason: failure.message });
    } else {
      c.set('logFields', { ...c.get('logFields'), error: failure.code });
    }
    for (const [name, value] of Object.entries(errorHeaders(failure))) c.header(name, value);
    // A rejected upload may be unread; the HTTP layer drains it only briefly before closing the
    // socket, so tell the client not to reuse this connection for its next request.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') c.header('connection', 'close');
    return c.json(failure.reply(), failure.status as 400);
  };
  app.onError(errorResponse);
  // Answered, not thrown: hono runs the not-found handler outside the middleware's `next()`, so a
  // throw would skip the request's log line and metrics.
  app.notFound((c) =>
    errorResponse(
      new ProxyError('not_found', `no route ${c.req.method} ${pathAsSent(c.req.raw, c.env)}`),
      c,
    ),
  );

  return {
    app,
    management: createManagementApp(ctx),
    flusher,
    metrics,
    beginShutdown() {
      ctx.lifecycle.shuttingDown = true;
      flusher.expedite();
    },
    drain: () => flusher.close(),
  };
}
