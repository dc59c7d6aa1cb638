/**
 * The media types of the contract. A produce body must be {@link CONTENT_TYPES.frames}; a produce
 * request whose `Accept` prefers {@link CONTENT_TYPES.json} gets a JSON reply instead of text.
 */
export const CONTENT_TYPES = {
  /** Length-prefixed frames (see `@kproxy/framing`), the only produce body. */
  frames: 'application/octet-stream',
  /** Error replies, `GET /topic`, the probes and JSON produce replies. */
  json: 'application/json',
  /** The original proxy's replies (`N messages received`, `Topic changed to x`). */
  text: 'text/plain',
} as const;
