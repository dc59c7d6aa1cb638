export { decodeFrames } from './decode.js';
export { FrameDecoder } from './decoder.js';
export { encodeFrame, encodeFrames } from './encode.js';
export { FramingError, type FramingErrorCode } from './errors.js';
export { DEFAULT_MAX_MESSAGE_BYTES, type DecodeOptions, FRAME_HEADER_BYTES } from './options.js';
export { decodeFrameStream } from './stream.js';
export {
  decodeRecord,
  decodeRecords,
  encodeRecord,
  encodeRecords,
  type ProxyRecord,
  RECORDS_CONTENT_TYPE,
  RecordDecoder,
  RecordError,
  type RecordField,
  recordSize,
  type RecordHeader,
} from './records.js';
