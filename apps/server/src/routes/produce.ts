import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { ACK_MODES, HEADERS, ROUTES, type AckMode, type ProduceReply } from '@kproxy/protocol';
import type { Context, Hono } from 'hono';
import { checkContentType, readFramedBody } from '../body.js';
import type { AppEnv, ServerContext } from '../context.js';
import { ProxyError } from '../errors.js';
import type { Delivery } from '../flusher.js';
import { prefersJson } from '../negotiate.js';
import { assertTopicName } from '../topic-name.js';
import { authenticate } from './auth-middleware.js';
import { honoPath } from './paths.js';
import { unavailability } from './readiness.js';

/**
 * The Node request when served by `@hono/node-server` (absent under `app.request()`). Its body is
 * read from it directly: `c.req.raw.body` would build a web `Request` and wrap the body in web
 * streams, a large part of a small request's cost.
 */
function nodeRequest(c: Context<AppEnv>): IncomingMessage | undefined {
  return (c.env as Partial<HttpBindings> | undefined)?.incoming;
}

function ackMode(c: Context<AppEnv>, ctx: ServerContext): AckMode {
  const header = c.req.header(HEADERS.ack);
  if (header === undefined) return ctx.config.ackMode;
  // Present but empty is refused like any other value outside the enum: it is usually a client
  // template whose variable was unset, and the client should learn that its request is not what
  // it meant.
  const mode = header.trim().toLowerCase();
  if ((ACK_MODES as readonly string[]).includes(mode)) return mode as AckMode;
  throw new ProxyError('bad_request', `${HEADERS.ack} must be ${ACK_MODES.join(' or ')}`);
}

async function produce(c: Context<AppEnv>, ctx: ServerContext, topic: string): Promise<Response> {
  const { config, flusher, metrics } = ctx;
  ctx.auth.authorize(c.get('principal'), topic);
  checkContentType(c.req.header('content-type'));
  const mode = ackMode(c, ctx);
  c.set('logFields', { ...c.get('logFields'), topic, ack: mode });
  const notReady = unavailability(ctx);
  if (notReady !== undefined) throw notReady;

  // The body reader gives the bytes back if it rejects the body, the flusher from then on.
  const reservation = ctx.budget.reserve();
  const body = await readFramedBody(
    nodeRequest(c) ?? c.req.raw.body,
    c.req.raw.headers,
    config.limits,
    reservation,
  );
  // The ack timeout counts from here: how long the upload took is the request timeout's concern.
  const ticket = await flusher.enqueue(
    { topic, messages: body.messages, bytes: body.bytes, reservation },
    { ackTimeoutMs: mode === 'durable' ? config.ackTimeoutMs : undefined },
  );
  const count = body.messages.length;
  metrics.messagesIn.inc({ topic }, count);
  metrics.bytesIn.inc({ topic }, body.bytes);
  const logFields = { ...c.get('logFields'), messages: count, bytes: body.bytes };
  c.set('logFields', { ...logFields, partition: ticket.partition });

  let delivery: Delivery | undefined;
  if (mode === 'durable') {
    delivery = await ticket.delivered;
    c.set('logFields', { ...c.get('logFields'), baseOffset: delivery.baseOffset });
  } else {
    // Answered 202 already: the flusher retries it until Kafka takes it, so this happens only
    // when Kafka refuses the records for good. Nobody else would ever hear of it.
    ticket.delivered.catch((error: unknown) => {
      ctx.logger.error(
        { ...logFields, partition: ticket.partition, err: error },
        'a buffered request was dropped: Kafka refused its messages',
      );
    });
  }
  const status = mode === 'durable' ? 200 : 202;
  if (prefersJson(c.req.header('accept'))) {
    const reply: ProduceReply = {
      topic,
      count,
      bytes: body.bytes,
      ack: mode,
      ...(delivery === undefined
        ? {}
        : { partition: delivery.partition, baseOffset: delivery.baseOffset }),
    };
    return c.json(reply, status);
  }
  return c.text(`${count} messages received`, status);
}

/**
 * `POST /` (the current default topic, read when the request arrives) and
 * `POST /topics/{topic}`: decode the body's frames and produce them, all or nothing.
 */
export function registerProduceRoutes(app: Hono<AppEnv>, ctx: ServerContext): void {
  const { produce: toDefault, produceTo } = ROUTES;
  app.post(toDefault.path, authenticate(ctx, toDefault.path), (c) => {
    const topic = ctx.topicStore.current();
    return produce(c, ctx, topic);
  });
  app.post(honoPath(produceTo.path), authenticate(ctx, produceTo.path), (c) =>
    produce(c, ctx, assertTopicName(c.req.param('topic') ?? '')),
  );
}
