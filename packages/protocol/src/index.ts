export { ERROR_CODES, ERROR_CODE_NAMES, isErrorCode, type ErrorCode } from './errors.js';
export { HEADERS, ACK_MODES, type AckMode } from './headers.js';
export { CONTENT_TYPES } from './content-types.js';
export { ROUTES, producePath, setTopicPath } from './routes.js';
export {
  isValidTopicName,
  MAX_TOPIC_NAME_LENGTH,
  TOPIC_NAME_PATTERN,
  TOPIC_NAME_RULE,
} from './topic-name.js';
export {
  NOT_READY_CODES,
  type ErrorReply,
  type HealthReply,
  type OffsetsReply,
  type ProduceReply,
  type RecordOffset,
  type ReadyReply,
  type TopicReply,
} from './replies.js';
