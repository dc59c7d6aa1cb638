import type { MiddlewareHandler } from 'hono';
import { tokenFromHeaders } from '../auth.js';
import type { AppEnv, ServerContext } from '../context.js';

/**
 * Names the route (for metrics and logs) and checks the request's token before the handler runs.
 * Routes without a token requirement use {@link named} instead.
 */
export function authenticate(ctx: ServerContext, route: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('route', route);
    const principal = ctx.auth.authenticate(tokenFromHeaders(c.req.raw.headers));
    c.set('principal', principal);
    c.set('logFields', { ...c.get('logFields'), tokenIndex: principal.index });
    await next();
  };
}

/** Names the route of a request that needs no token (`/healthz`, `/readyz`). */
export function named(route: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('route', route);
    await next();
  };
}
