/**
 * A contract route template (`/topics/{topic}`, the OpenAPI spelling) in hono's spelling
 * (`/topics/:topic`).
 *
 * @example
 * app.post(honoPath(ROUTES.produceTo.path), handler);
 */
export const honoPath = (template: string): string => template.replace(/\{(\w+)\}/g, ':$1');
