/** The OpenAPI 3.1 description of the server's routes, served at `GET /openapi.json`. */

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const retryable = (description: string) => ({
  ...errorResponse(description),
  headers: {
    'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait before retrying' },
  },
});

const unauthorized = (description: string) => ({
  ...errorResponse(description),
  headers: {
    'WWW-Authenticate': {
      schema: { type: 'string' },
      description: 'the scheme to authenticate with: Bearer',
    },
  },
});

const statusBody = {
  description: 'status',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string' } },
      },
    },
  },
};

const produceResponses = {
  '200': {
    description: 'durable: every message is acknowledged by Kafka',
    content: {
      'text/plain': { schema: { type: 'string', examples: ['3 messages received'] } },
      'application/json': { schema: { $ref: '#/components/schemas/ProduceResult' } },
    },
  },
  '202': {
    description:
      'buffered: the request is validated and queued; it is flushed within the flush interval',
    content: {
      'text/plain': { schema: { type: 'string', examples: ['3 messages received'] } },
      'application/json': { schema: { $ref: '#/components/schemas/ProduceResult' } },
    },
  },
  '400': errorResponse('truncated_frame, empty_body, invalid_topic or bad_request'),
  '401': unauthorized('unauthorized: missing or wrong token'),
  '403': errorResponse('forbidden: the token may not use this topic'),
  '404': errorResponse(
    'unknown_topic: the topic does not exist and Kafka does not auto-create topics',
  ),
  '413': errorResponse(
    'body_too_large, message_too_large (decoded bytes) or too_many_messages (KAFKA_PROXY_MAX_BODY_MESSAGES)',
  ),
  '415': errorResponse('unsupported_media_type or unsupported_encoding'),
  '502': errorResponse('kafka_rejected: Kafka refused the messages'),
  '503': retryable(
    'kafka_unavailable, ack_timeout, buffer_full or shutting_down; nothing was produced unless the ack timed out',
  ),
};

const produceRequest = {
  required: true,
  description:
    'A sequence of frames: each a 4-byte little-endian length N followed by N bytes of message. May be compressed with Content-Encoding gzip, deflate or br.',
  content: {
    'application/octet-stream': {
      schema: { type: 'string', contentMediaType: 'application/octet-stream' },
    },
  },
};

const produceParameters = [
  { $ref: '#/components/parameters/Ack' },
  { $ref: '#/components/parameters/RequestId' },
];

const topicParameter = {
  name: 'topic',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-zA-Z0-9._-]{1,249}$' },
  description: 'a Kafka topic name, not "." or ".."',
};

/** Builds the document (cheap; built per call so nothing is done at import time). */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'kafka-proxy',
      version: '0.1.0',
      description: 'HTTP(S) gateway into Kafka: POST batches of length-prefixed binary messages.',
    },
    security: [{ token: [] }, { bearer: [] }],
    paths: {
      '/': {
        post: {
          summary: "Produce the body's frames to the current default topic",
          operationId: 'produceDefault',
          parameters: produceParameters,
          requestBody: produceRequest,
          responses: produceResponses,
        },
      },
      '/topics/{topic}': {
        post: {
          summary: "Produce the body's frames to {topic}; the default topic is unchanged",
          operationId: 'produceTopic',
          parameters: [topicParameter, ...produceParameters],
          requestBody: produceRequest,
          responses: produceResponses,
        },
      },
      '/topic/{topic}': {
        post: {
          summary: 'Make {topic} the default topic, persistently',
          operationId: 'setTopic',
          parameters: [topicParameter],
          responses: {
            '200': {
              description: 'changed',
              content: {
                'text/plain': { schema: { type: 'string', examples: ['Topic changed to orders'] } },
              },
            },
            '400': errorResponse('invalid_topic'),
            '401': unauthorized('unauthorized'),
            '403': errorResponse('forbidden'),
            '500': errorResponse(
              'topic_store_failed: the change could not be saved; the old topic stays',
            ),
            '503': retryable(
              'kafka_unavailable or shutting_down (kafka topic store): the change was not shared; the old topic stays',
            ),
          },
        },
      },
      '/topic': {
        get: {
          summary: 'The current default topic',
          operationId: 'getTopic',
          responses: {
            '200': {
              description: 'the topic',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['topic'],
                    properties: { topic: { type: 'string' } },
                  },
                },
              },
            },
            '401': unauthorized('unauthorized'),
          },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness: the process serves',
          operationId: 'healthz',
          security: [],
          responses: { '200': { ...statusBody, description: 'alive' } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: Kafka reachable, producer ready, not shutting down',
          operationId: 'readyz',
          security: [],
          responses: {
            '200': { ...statusBody, description: 'ready' },
            '503': { ...statusBody, description: 'not ready: kafka_unavailable or shutting_down' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format)',
          operationId: 'metrics',
          responses: {
            '200': {
              description: 'metrics',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            '401': unauthorized('unauthorized'),
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          operationId: 'openapi',
          responses: {
            '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': {} } },
            '401': unauthorized('unauthorized'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        token: { type: 'apiKey', in: 'header', name: 'x-kafka-proxy-token' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
      parameters: {
        Ack: {
          name: 'x-kafka-proxy-ack',
          in: 'header',
          required: false,
          schema: { type: 'string', enum: ['durable', 'buffered'] },
          description:
            "override the server's acknowledgement mode for this request (case-insensitive; empty is refused)",
        },
        RequestId: {
          name: 'x-request-id',
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: 'echoed back and logged; generated when absent',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', description: 'stable error code' },
            message: { type: 'string', description: 'what was wrong, for a human' },
          },
        },
        ProduceResult: {
          type: 'object',
          required: ['topic', 'count', 'bytes', 'ack'],
          properties: {
            topic: { type: 'string' },
            count: { type: 'integer', description: 'messages in the request' },
            bytes: {
              type: 'integer',
              description: 'message payload bytes (frame headers excluded)',
            },
            ack: { type: 'string', enum: ['durable', 'buffered'] },
            partition: {
              type: 'integer',
              description: 'durable only: the partition all messages went to',
            },
            baseOffset: {
              type: 'string',
              description:
                'durable only: offset of the first message (a decimal string: offsets are 64-bit)',
            },
          },
        },
      },
    },
  };
}
