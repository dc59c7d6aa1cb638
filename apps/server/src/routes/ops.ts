import { ROUTES, type HealthReply, type ReadyReply } from '@kproxy/protocol';
import { Hono, type Context } from 'hono';
import type { AppEnv, ServerContext } from '../context.js';
import { errorHeaders, ProxyError } from '../errors.js';
import { openApiDocument } from '../openapi.js';
import { authenticate, named } from './auth-middleware.js';
import { unavailability } from './readiness.js';

/** `/healthz`: the process serves. */
const health = (c: Context): Response => c.json({ status: 'ok' } satisfies HealthReply);

/**
 * `/readyz`: 200 when Kafka is reachable and the server is not shutting down, else the 503 a
 * produce request would get (`kafka_unavailable`, `shutting_down`).
 */
function readiness(ctx: ServerContext): (c: Context) => Response {
  return (c) => {
    const notReady = unavailability(ctx);
    if (notReady !== undefined) throw notReady;
    return c.json({ status: 'ready' } satisfies ReadyReply);
  };
}

/** `/metrics`: the registry in Prometheus's text format. */
function metricsText(ctx: ServerContext): (c: Context) => Promise<Response> {
  return async (c) => {
    const text = await ctx.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': ctx.metrics.registry.contentType });
  };
}

/** Liveness, readiness, Prometheus metrics and the OpenAPI document. */
export function registerOpsRoutes(app: Hono<AppEnv>, ctx: ServerContext): void {
  const { health: healthz, readiness: readyz, metrics, openapi } = ROUTES;
  app.get(healthz.path, named(healthz.path), health);
  app.get(readyz.path, named(readyz.path), readiness(ctx));
  app.get(metrics.path, authenticate(ctx, metrics.path), metricsText(ctx));
  app.get(openapi.path, authenticate(ctx, openapi.path), (c) => c.json(openApiDocument()));
}

/**
 * The management listener's app (`KAFKA_PROXY_METRICS_PORT`, see "Metrics" in
 * docs/deploying.md): `/metrics` without a
 * token, the way Kubernetes and Prometheus scrape pods, and the probes; nothing else, so the port
 * can be reachable from the cluster without opening a way to produce.
 *
 * @example
 * serve({ fetch: createManagementApp(ctx).fetch, port: 9464 });
 */
export function createManagementApp(ctx: ServerContext): Hono {
  const app = new Hono();
  const answer = (c: Context, error: ProxyError): Response =>
    c.json(error.reply(), error.status as 400, errorHeaders(error));
  app.onError((error, c) => {
    if (error instanceof ProxyError) return answer(c, error);
    ctx.logger.error({ err: error }, 'unexpected error on the metrics port');
    return answer(c, new ProxyError('internal', 'internal error'));
  });
  const { metrics, health: healthz, readiness: readyz } = ROUTES;
  app.get(healthz.path, health);
  app.get(readyz.path, readiness(ctx));
  app.get(metrics.path, metricsText(ctx));
  app.notFound((c) =>
    answer(
      c,
      new ProxyError(
        'not_found',
        `the metrics port serves GET ${metrics.path}, ${healthz.path} and ${readyz.path}`,
      ),
    ),
  );
  return app;
}
