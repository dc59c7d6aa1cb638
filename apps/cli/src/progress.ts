import type { Output } from './io.js';
import { formatBytes, formatCount } from './format.js';

export interface ProgressState {
  messages: number;
  bytes: number;
  /** Input bytes read so far and in all, when the input size is known (files). */
  read?: number;
  total?: number | undefined;
}

/**
 * A one-line progress display on a terminal: redrawn in place every `intervalMs`, left on
 * screen when done. Draws nothing unless the output is a TTY.
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
    const { messages, bytes, read, total } = this.#state;
    const seconds = Math.max((Date.now() - this.#started) / 1000, 0.001);
    const stats = `${formatCount(messages)} msgs  ${formatBytes(bytes)}  ${formatCount(messages / seconds)} msg/s`;
    let bar = '';
    if (total !== undefined && total > 0 && read !== undefined) {
      const width = 24;
      const ratio = Math.min(read / total, 1);
      const filled = Math.round(ratio * width);
      bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  `;
    }
    this.#out.write(`\r\x1b[2K${bar}${stats}`);
  }
}
