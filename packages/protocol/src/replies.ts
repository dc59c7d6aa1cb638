import type { AckMode } from './headers.js';
import type { ErrorCode } from './errors.js';

/**
 * Every error answer's body: a stable code to branch on and a sentence for a human.
 *
 * @example
 * { "error": "truncated_frame", "message": "the body ends inside frame 1, ..." }
 */
export interface ErrorReply {
  error: ErrorCode;
  message: string;
}

/**
 * The JSON reply to a produce request whose `Accept` prefers JSON. `partition` and `baseOffset`
 * (the offset of the request's first message, a decimal string: offsets are 64-bit) are there in
 * durable mode only.
 */
export interface ProduceReply {
  topic: string;
  count: number;
  bytes: number;
  ack: AckMode;
  /** Durable, when the whole request went to one partition. */
  partition?: number;
  baseOffset?: string;
  /** Durable, records bodies: where each record went, in request order. */
  offsets?: RecordOffset[];
}

/** Where one record was written: its partition and offset (a decimal string: 64-bit). */
export interface RecordOffset {
  partition: number;
  offset: string;
}

/**
 * The reply to a Confluent-REST-v2-compatible JSON produce request: each record's partition and
 * offset in record order, as those products answer (schema ids are always null). The offset is
 * null in buffered mode (202), when it is not known yet.
 */
export interface OffsetsReply {
  key_schema_id: null;
  value_schema_id: null;
  offsets: { partition: number; offset: number | null }[];
}

/** `GET /topic`: the current default topic. */
export interface TopicReply {
  topic: string;
}

/** `GET /healthz`: the process serves. */
export interface HealthReply {
  status: 'ok';
}

/** `GET /readyz` when ready (200); when not, 503 with an {@link ErrorReply}. */
export interface ReadyReply {
  status: 'ready';
}

/** The codes `GET /readyz` answers 503 with. */
export const NOT_READY_CODES = [
  'kafka_unavailable',
  'shutting_down',
] as const satisfies readonly ErrorCode[];
