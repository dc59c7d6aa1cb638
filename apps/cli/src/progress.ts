import type { Output } from './io.js';
import { renderProgress } from './progress-line.js';

export interface ProgressState {
  /** Messages acknowledged so far, and their bytes. */
  messages: number;
  bytes: number;
  /** Messages handed to the client so far (acknowledged or not). */
  sent?: number;
  /** Input bytes read so far and in all, when the input size is known (files). */
  read?: number;
  total?: number | undefined;
}

// Without a size (not a real terminal, or one that does not say), assume the classic width.
const FALLBACK_COLUMNS = 80;

/**
 * A one-line progress display on a terminal: redrawn in place every `intervalMs` to fit the
 * terminal's current width, left on screen when done. Draws nothing unless the output is a TTY.
 */
export class Progress {
  readonly #out: Output;
  readonly #started = Date.now();
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #state: ProgressState = { messages: 0, bytes: 0 };

  constructor(out: Output, enabled: boolean, intervalMs = 100) {
    this.#out = out;
    if (enabled && out.isTTY === true) {
      this.#timer = setInterval(() => this.#draw(), intervalMs);
      this.#timer.unref();
    }
  }

  /** Whether a bar is on screen (so other output must start on a new line). */
  get active(): boolean {
    return this.#timer !== undefined;
  }

  update(state: ProgressState): void {
    this.#state = state;
  }

  /** Draws the final state and moves to the next line. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#draw();
    this.#out.write('\n');
  }

  #draw(): void {
    const { messages, bytes, sent, read, total } = this.#state;
    let done: number | undefined;
    if (total !== undefined && total > 0 && read !== undefined) {
      // Reading runs ahead of delivery by up to the client's queue, so the share of the input
      // read is scaled by the share of what was read that is acknowledged: 100% means delivered.
      const readShare = Math.min(read / total, 1);
      const ackedShare = sent !== undefined && sent > 0 ? Math.min(messages / sent, 1) : 0;
      done = readShare * ackedShare;
    }
    const columns =
      this.#out.columns !== undefined && this.#out.columns > 0
        ? this.#out.columns
        : FALLBACK_COLUMNS;
    const line = renderProgress(
      { messages, bytes, elapsedMs: Date.now() - this.#started, done },
      columns,
    );
    this.#out.write(`\r\x1b[2K${line}`);
  }
}
