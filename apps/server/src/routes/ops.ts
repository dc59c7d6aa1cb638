import type { Hono } from 'hono';
import type { AppEnv, ServerContext } from '../context.js';
import { openApiDocument } from '../openapi.js';
import { authenticate, named } from './auth-middleware.js';

/** Liveness, readiness, Prometheus metrics and the OpenAPI document. */
export function registerOpsRoutes(app: Hono<AppEnv>, ctx: ServerContext): void {
  app.get('/healthz', named('/healthz'), (c) => c.json({ status: 'ok' }));

  app.get('/readyz', named('/readyz'), (c) => {
    if (ctx.lifecycle.shuttingDown) return c.json({ status: 'shutting_down' }, 503);
    if (!ctx.producer.isReady()) return c.json({ status: 'kafka_unavailable' }, 503);
    return c.json({ status: 'ready' });
  });

  app.get('/metrics', authenticate(ctx, '/metrics'), async (c) => {
    ctx.metrics.reservedBytes.set(ctx.budget.used);
    const text = await ctx.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': ctx.metrics.registry.contentType });
  });

  app.get('/openapi.json', authenticate(ctx, '/openapi.json'), (c) => c.json(openApiDocument()));
}
