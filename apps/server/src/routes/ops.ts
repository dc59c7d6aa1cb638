import { Hono, type Context } from 'hono';
import type { AppEnv, ServerContext } from '../context.js';
import { openApiDocument } from '../openapi.js';
import { authenticate, named } from './auth-middleware.js';

/** `/healthz`: the process serves. */
const health = (c: Context): Response => c.json({ status: 'ok' });

/** `/readyz`: 200 when Kafka is reachable and the server is not shutting down. */
function readiness(ctx: ServerContext): (c: Context) => Response {
  return (c) => {
    if (ctx.lifecycle.shuttingDown) return c.json({ status: 'shutting_down' }, 503);
    if (!ctx.producer.isReady()) return c.json({ status: 'kafka_unavailable' }, 503);
    return c.json({ status: 'ready' });
  };
}

/** `/metrics`: the registry in Prometheus's text format. */
function metricsText(ctx: ServerContext): (c: Context) => Promise<Response> {
  return async (c) => {
    ctx.metrics.reservedBytes.set(ctx.budget.used);
    const text = await ctx.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': ctx.metrics.registry.contentType });
  };
}

/** Liveness, readiness, Prometheus metrics and the OpenAPI document. */
export function registerOpsRoutes(app: Hono<AppEnv>, ctx: ServerContext): void {
  app.get('/healthz', named('/healthz'), health);
  app.get('/readyz', named('/readyz'), readiness(ctx));
  app.get('/metrics', authenticate(ctx, '/metrics'), metricsText(ctx));
  app.get('/openapi.json', authenticate(ctx, '/openapi.json'), (c) => c.json(openApiDocument()));
}

/**
 * The management listener's app (`KAFKA_PROXY_METRICS_PORT`, SPEC §10): `/metrics` without a
 * token, the way Kubernetes and Prometheus scrape pods, and the probes; nothing else, so the port
 * can be reachable from the cluster without opening a way to produce.
 *
 * @example
 * serve({ fetch: createManagementApp(ctx).fetch, port: 9464 });
 */
export function createManagementApp(ctx: ServerContext): Hono {
  const app = new Hono();
  app.get('/healthz', health);
  app.get('/readyz', readiness(ctx));
  app.get('/metrics', metricsText(ctx));
  app.notFound((c) =>
    c.json(
      { error: 'not_found', message: 'the metrics port serves GET /metrics, /healthz and /readyz' },
      404,
    ),
  );
  return app;
}
