import { formatBytes, formatCount, formatDuration, plural } from './format.js';

/** What one redraw of the progress line shows. */
export interface ProgressView {
  messages: number;
  bytes: number;
  elapsedMs: number;
  /** Share of the work done, 0 to 1, when the size of the input is known. */
  done?: number | undefined;
}

const GAP = '  ';
const MIN_BAR = 10;

interface Part {
  text: string;
  /** Lower keeps its place longer when the terminal is narrow. */
  rank: number;
}

/**
 * The progress line for a terminal `columns` wide, at most `columns - 1` characters so that it
 * never wraps (a line filling the last column wraps on many terminals, and every redraw would
 * then start a new line). With a known size: bar, percent, messages, bytes, rate, elapsed time
 * and ETA; without: messages, bytes, rate and elapsed time. When the terminal is too narrow for
 * everything, the least useful parts go first, and the bar takes whatever width is left.
 *
 * @example
 * renderProgress({ messages: 1, bytes: 5, elapsedMs: 2000, done: 0.5 }, 60);
 * // '[####-----] 50%  1 message  5 B  1 msg/s  0:02  ETA 0:02' (the bar fills the width)
 */
export function renderProgress(view: ProgressView, columns: number): string {
  const width = Math.max(columns - 1, 0);
  const seconds = view.elapsedMs / 1000;
  const rate = seconds > 0 ? view.messages / seconds : 0;
  const known = view.done !== undefined;
  const done = Math.min(Math.max(view.done ?? 0, 0), 1);

  const parts: Part[] = [];
  if (known) parts.push({ text: `${String(Math.floor(done * 100)).padStart(3)}%`, rank: 0 });
  parts.push({ text: plural(view.messages, 'message'), rank: known ? 2 : 0 });
  parts.push({ text: formatBytes(view.bytes), rank: 6 });
  parts.push({ text: `${formatCount(rate)} msg/s`, rank: known ? 5 : 1 });
  parts.push({ text: formatDuration(view.elapsedMs), rank: known ? 3 : 2 });
  if (known) {
    const eta = done > 0 ? formatDuration((view.elapsedMs * (1 - done)) / done) : '-:--';
    parts.push({ text: `ETA ${eta}`, rank: 1 });
  }

  // The bar ranks after the count and elapsed time: at 40 columns they say more than a stub of
  // a bar would.
  const BAR_RANK = 4;
  const kept = new Set<Part>();
  let withBar = false;
  const length = (bar: boolean): number => {
    const texts = parts.filter((p) => kept.has(p)).map((p) => p.text);
    const textLength = texts.join(GAP).length;
    if (!bar) return textLength;
    return MIN_BAR + 2 + (texts.length > 0 ? 1 + textLength : 0);
  };
  // Strictly by rank: once a part does not fit, no less useful one is shown either. The bar is
  // the exception, a filler that is left out where it does not fit.
  fill: for (let rank = 0; rank <= 6; rank++) {
    if (known && rank === BAR_RANK && length(true) <= width) withBar = true;
    for (const part of parts) {
      if (part.rank !== rank) continue;
      kept.add(part);
      if (length(withBar) > width) {
        kept.delete(part);
        break fill;
      }
    }
  }

  const text = parts
    .filter((p) => kept.has(p))
    .map((p) => p.text)
    .join(GAP);
  let line = text;
  if (withBar) {
    const inner = width - 2 - (text === '' ? 0 : 1 + text.length);
    const filled = Math.round(done * inner);
    line = `[${'#'.repeat(filled)}${'-'.repeat(inner - filled)}]${text === '' ? '' : ` ${text}`}`;
  }
  // Still too wide (a terminal a few columns wide): cut, never wrap.
  return line.slice(0, width);
}
