/**
 * The routes of the HTTP API, as templates with `{param}` placeholders (the OpenAPI spelling), and
 * the methods each answers.
 *
 * @example
 * ROUTES.produceTo; // { path: '/topics/{topic}', methods: ['POST'] }
 */
export const ROUTES = {
  /** Produce the body's frames to the current default topic. */
  produce: { path: '/', methods: ['POST'] },
  /** Produce the body's frames to `{topic}`. */
  produceTo: { path: '/topics/{topic}', methods: ['POST'] },
  /** Make `{topic}` the default topic. */
  setTopic: { path: '/topic/{topic}', methods: ['POST'] },
  /** The current default topic. */
  topic: { path: '/topic', methods: ['GET'] },
  /** Liveness: the process serves. */
  health: { path: '/healthz', methods: ['GET'] },
  /** Readiness: Kafka reachable, not shutting down. */
  readiness: { path: '/readyz', methods: ['GET'] },
  /** Prometheus text format. */
  metrics: { path: '/metrics', methods: ['GET'] },
  /** The OpenAPI 3.1 description of this API. */
  openapi: { path: '/openapi.json', methods: ['GET'] },
} as const satisfies Record<string, { path: string; methods: readonly string[] }>;

/** The path that produces to `topic` (`/topics/{topic}`, the name percent-encoded). */
export const producePath = (topic: string): string => `/topics/${encodeURIComponent(topic)}`;

/** The path that makes `topic` the default topic (`/topic/{topic}`, the name percent-encoded). */
export const setTopicPath = (topic: string): string => `/topic/${encodeURIComponent(topic)}`;
