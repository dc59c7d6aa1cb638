import { ROUTES, type TopicReply } from '@kproxy/protocol';
import type { Hono } from 'hono';
import type { AppEnv, ServerContext } from '../context.js';
import { ProxyError } from '../errors.js';
import { assertTopicName } from '../topic-name.js';
import { authenticate } from './auth-middleware.js';
import { honoPath } from './paths.js';

/** `GET /topic` (the current default topic) and `POST /topic/{topic}` (change it, persistently). */
export function registerTopicRoutes(app: Hono<AppEnv>, ctx: ServerContext): void {
  const { topic: getTopic, setTopic } = ROUTES;
  app.get(getTopic.path, authenticate(ctx, getTopic.path), (c) =>
    c.json({ topic: ctx.topicStore.current() } satisfies TopicReply),
  );

  app.post(honoPath(setTopic.path), authenticate(ctx, setTopic.path), async (c) => {
    const topic = assertTopicName(c.req.param('topic') ?? '');
    ctx.auth.authorize(c.get('principal'), topic);
    const previous = ctx.topicStore.current();
    try {
      await ctx.topicStore.set(topic);
    } catch (error) {
      // Kafka not taking the change (kafka topic store) is a 503 the client may retry.
      if (error instanceof ProxyError && error.retriable) throw error;
      throw new ProxyError(
        'topic_store_failed',
        `the default topic could not be saved, it is still "${ctx.topicStore.current()}"`,
        {
          cause: error,
        },
      );
    }
    c.get('logger').info({ previous, topic }, 'default topic changed');
    return c.text(`Topic changed to ${topic}`, 200);
  });
}
