/** The OpenAPI 3.1 description of the server's routes, served at `GET /openapi.json`. */
import {
  ACK_MODES,
  CONTENT_TYPES,
  ERROR_CODE_NAMES,
  HEADERS,
  NOT_READY_CODES,
  ROUTES,
  TOPIC_NAME_PATTERN,
} from '@kproxy/protocol';

const { json, text, frames, records, binaryV2, jsonV2 } = CONTENT_TYPES;

/** Every response carries the request id (the client's, when it sent a sane one). */
const requestIdHeader = { [HEADERS.requestId]: { $ref: '#/components/headers/RequestId' } };

const errorResponse = (description: string) => ({
  description,
  headers: requestIdHeader,
  content: { [json]: { schema: { $ref: '#/components/schemas/Error' } } },
});

const retryable = (description: string) => ({
  ...errorResponse(description),
  headers: {
    ...requestIdHeader,
    [HEADERS.retryAfter]: { $ref: '#/components/headers/RetryAfter' },
  },
});

const unauthorized = (description: string) => ({
  ...errorResponse(description),
  headers: {
    ...requestIdHeader,
    'WWW-Authenticate': {
      schema: { type: 'string' },
      description: 'the scheme to authenticate with: Bearer',
    },
  },
});

const closing = (description: string) => ({
  ...errorResponse(description),
  headers: {
    ...requestIdHeader,
    Connection: { schema: { type: 'string', const: 'close' }, description: 'always close' },
  },
});

/**
 * What any route may answer besides its own responses: the HTTP layer's refusals (the request is
 * not valid HTTP/1.1, took too long, has headers too large or a transfer coding other than
 * chunked), a wrong method, and failures of the server itself.
 */
const commonResponses = {
  '400': closing('bad_request: the request is not valid HTTP/1.1 (the connection is closed)'),
  '404': errorResponse(
    'not_found: no route has this path as sent (a "." or ".." segment is not resolved)',
  ),
  '405': {
    ...errorResponse('method_not_allowed: the path exists with other methods'),
    headers: {
      ...requestIdHeader,
      Allow: { schema: { type: 'string' }, description: 'the methods the path answers' },
    },
  },
  '408': closing(
    'request_timeout: headers and body were not received within KAFKA_PROXY_REQUEST_TIMEOUT',
  ),
  '431': closing('headers_too_large: the request line and headers are too large'),
  '500': errorResponse('internal: an unexpected failure of the server'),
  '501': closing(
    'unsupported_transfer_coding: a Transfer-Encoding other than chunked; compress with Content-Encoding instead',
  ),
};

/** The responses of one operation: its own, on top of {@link commonResponses}. */
const responses = (own: Record<string, unknown>) => ({ ...commonResponses, ...own });

const statusBody = {
  description: 'status',
  headers: requestIdHeader,
  content: {
    [json]: {
      schema: {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string' } },
      },
    },
  },
};

/** A JSON produce reply: the proxy's own, or the Confluent-v2 one to a JSON body. */
const produceReply = {
  oneOf: [{ $ref: '#/components/schemas/ProduceResult' }, { $ref: '#/components/schemas/Offsets' }],
};

const produceResponses = responses({
  '200': {
    description: 'durable: every message is acknowledged by Kafka',
    headers: requestIdHeader,
    content: {
      [text]: { schema: { type: 'string', examples: ['3 messages received'] } },
      [json]: { schema: produceReply },
    },
  },
  '202': {
    description:
      'buffered: the request is validated and queued; it is flushed within the flush interval',
    headers: requestIdHeader,
    content: {
      [text]: { schema: { type: 'string', examples: ['3 messages received'] } },
      [json]: { schema: produceReply },
    },
  },
  '400': errorResponse(
    'truncated_frame, malformed_record (naming the frame or record and the field), empty_body, invalid_topic (also a "." or ".." path segment in place of the topic), invalid_partition (not a number, or not one of the topic\'s partitions) or bad_request; nothing of the request is produced',
  ),
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
});

/** Raw bytes, not a JSON string (OpenAPI 3.1's contentMediaType; `format: binary` for 3.0 tools). */
const bytesOf = (type: string) => ({ schema: { contentMediaType: type, format: 'binary' } });

/** The body of a produce request; `withJson`: the route that also takes Confluent-v2 JSON. */
const produceRequest = (withJson: boolean) => ({
  required: true,
  description:
    'Frames: each a 4-byte little-endian length N followed by N bytes. With ' +
    `${frames} each frame is a message value (the original format); with ${records} each frame ` +
    'is one record: timestamp:i64 (-1: Kafka sets it), keyLen:i32 key, headerCount:i32 ' +
    '(nameLen:i32 name valueLen:i32 value)*, valueLen:i32 value, little-endian, length -1 = null ' +
    '(a null value is a tombstone).' +
    (withJson
      ? ` ${binaryV2} and ${jsonV2} take Confluent REST v2 JSON records (keys and values base64, or any JSON produced as its text).`
      : '') +
    ' May be compressed with Content-Encoding gzip, deflate or br.',
  content: {
    [frames]: bytesOf(frames),
    [records]: bytesOf(records),
    ...(withJson ? { [binaryV2]: jsonRecords('base64'), [jsonV2]: jsonRecords('json') } : {}),
  },
});

/** A Confluent-REST-v2-style JSON body; keys and values are base64 strings or any JSON. */
function jsonRecords(embedding: 'base64' | 'json') {
  const bytes =
    embedding === 'base64' ? { type: ['string', 'null'], contentEncoding: 'base64' } : {};
  return {
    schema: {
      type: 'object',
      required: ['records'],
      properties: {
        records: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['value'],
            properties: {
              key: bytes,
              value: { ...bytes, description: 'null: a tombstone' },
              partition: { type: 'integer', minimum: 0 },
              headers: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['key'],
                  properties: {
                    key: { type: 'string' },
                    value: { type: ['string', 'null'], contentEncoding: 'base64' },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}

const produceParameters = [
  { $ref: '#/components/parameters/Ack' },
  { $ref: '#/components/parameters/Key' },
  { $ref: '#/components/parameters/Partition' },
  { $ref: '#/components/parameters/Traceparent' },
  { $ref: '#/components/parameters/Tracestate' },
  { $ref: '#/components/parameters/RequestId' },
];

const topicParameter = {
  name: 'topic',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: TOPIC_NAME_PATTERN },
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
    // Relative: the document describes whichever server (and path prefix) served it.
    servers: [{ url: '/', description: 'the server that serves this document' }],
    security: [{ token: [] }, { bearer: [] }],
    paths: {
      [ROUTES.produce.path]: {
        post: {
          summary: "Produce the body's messages or records to the current default topic",
          operationId: 'produceDefault',
          parameters: produceParameters,
          requestBody: produceRequest(false),
          responses: produceResponses,
        },
      },
      [ROUTES.produceTo.path]: {
        post: {
          summary:
            "Produce the body's messages or records to {topic}; the default topic is unchanged",
          operationId: 'produceTopic',
          parameters: [topicParameter, ...produceParameters],
          requestBody: produceRequest(true),
          responses: produceResponses,
        },
      },
      [ROUTES.setTopic.path]: {
        post: {
          summary: 'Make {topic} the default topic, persistently',
          operationId: 'setTopic',
          parameters: [topicParameter],
          responses: responses({
            '200': {
              description: 'changed',
              headers: requestIdHeader,
              content: {
                [text]: { schema: { type: 'string', examples: ['Topic changed to orders'] } },
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
          }),
        },
      },
      [ROUTES.topic.path]: {
        get: {
          summary: 'The current default topic',
          operationId: 'getTopic',
          responses: responses({
            '200': {
              description: 'the topic',
              headers: requestIdHeader,
              content: {
                [json]: {
                  schema: {
                    type: 'object',
                    required: ['topic'],
                    properties: { topic: { type: 'string' } },
                  },
                },
              },
            },
            '401': unauthorized('unauthorized'),
          }),
        },
      },
      [ROUTES.health.path]: {
        get: {
          summary: 'Liveness: the process serves',
          operationId: 'healthz',
          security: [],
          responses: responses({ '200': { ...statusBody, description: 'alive' } }),
        },
      },
      [ROUTES.readiness.path]: {
        get: {
          summary: 'Readiness: Kafka reachable, producer ready, not shutting down',
          operationId: 'readyz',
          security: [],
          responses: responses({
            '200': { ...statusBody, description: 'ready' },
            '503': retryable(`not ready: ${NOT_READY_CODES.join(' or ')}`),
          }),
        },
      },
      [ROUTES.metrics.path]: {
        get: {
          summary: 'Prometheus metrics (text format)',
          operationId: 'metrics',
          responses: responses({
            '200': {
              description: 'metrics',
              headers: requestIdHeader,
              content: { [text]: { schema: { type: 'string' } } },
            },
            '401': unauthorized('unauthorized'),
          }),
        },
      },
      [ROUTES.openapi.path]: {
        get: {
          summary: 'This document',
          operationId: 'openapi',
          responses: responses({
            '200': {
              description: 'OpenAPI 3.1 document',
              headers: requestIdHeader,
              content: { [json]: {} },
            },
            '401': unauthorized('unauthorized'),
          }),
        },
      },
    },
    components: {
      securitySchemes: {
        token: { type: 'apiKey', in: 'header', name: HEADERS.token },
        bearer: { type: 'http', scheme: 'bearer' },
      },
      headers: {
        RequestId: {
          description:
            "the request's id: the client's x-request-id when it sent a sane one, else a new UUID",
          schema: { type: 'string' },
        },
        RetryAfter: {
          description: 'seconds to wait before retrying',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      parameters: {
        Ack: {
          name: HEADERS.ack,
          in: 'header',
          required: false,
          schema: { type: 'string', enum: [...ACK_MODES] },
          description:
            "override the server's acknowledgement mode for this request (case-insensitive; empty is refused)",
        },
        Key: {
          name: HEADERS.key,
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: `${frames} bodies: every message gets this UTF-8 key, and so its partition (murmur2, as Kafka's Java producer)`,
        },
        Partition: {
          name: HEADERS.partition,
          in: 'header',
          required: false,
          schema: { type: 'string', pattern: '^[0-9]{1,9}$' },
          description: 'every message of the request goes to this partition (out of range: 400)',
        },
        Traceparent: {
          name: HEADERS.traceparent,
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: 'W3C trace context: copied into every record as a header, unless it has one',
        },
        Tracestate: {
          name: HEADERS.tracestate,
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: 'W3C trace context: copied into every record as a header, unless it has one',
        },
        RequestId: {
          name: HEADERS.requestId,
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
            error: {
              type: 'string',
              enum: [...ERROR_CODE_NAMES],
              description: 'stable error code',
            },
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
            ack: { type: 'string', enum: [...ACK_MODES] },
            partition: {
              type: 'integer',
              description: 'durable only: the partition all messages went to',
            },
            baseOffset: {
              type: 'string',
              description:
                'durable only: offset of the first message (a decimal string: offsets are 64-bit)',
            },
            offsets: {
              type: 'array',
              description: `durable, ${records} bodies: where each record went, in request order`,
              items: {
                type: 'object',
                required: ['partition', 'offset'],
                properties: { partition: { type: 'integer' }, offset: { type: 'string' } },
              },
            },
          },
        },
        Offsets: {
          type: 'object',
          description: 'the reply to a Confluent-v2 JSON body: each record where it went, in order',
          required: ['offsets'],
          properties: {
            key_schema_id: { type: 'null' },
            value_schema_id: { type: 'null' },
            offsets: {
              type: 'array',
              items: {
                type: 'object',
                required: ['partition', 'offset'],
                properties: {
                  partition: { type: 'integer' },
                  offset: { type: ['integer', 'null'], description: 'null in buffered mode (202)' },
                },
              },
            },
          },
        },
      },
    },
  };
}
