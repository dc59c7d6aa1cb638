import { describe, expect, it } from 'vitest';
import { renderProgress, type ProgressView } from './progress-line.js';

const halfway: ProgressView = { messages: 12_345, bytes: 1_258_291, elapsedMs: 3_000, done: 0.5 };
const streaming: ProgressView = { messages: 12_345, bytes: 1_258_291, elapsedMs: 65_000 };

describe('the progress line', () => {
  it('shows bar, percent, messages, size, rate, elapsed time and ETA when the size is known', () => {
    const line = renderProgress(halfway, 120);
    expect(line).toMatch(
      /^\[#+-+\] {2}50% {2}12,345 messages {2}1\.2 MiB {2}4,115 msg\/s {2}0:03 {2}ETA 0:03$/,
    );
  });

  it('fills the width of the terminal, minus one column', () => {
    for (const columns of [60, 80, 120, 200]) {
      expect(renderProgress(halfway, columns)).toHaveLength(columns - 1);
    }
    const line = renderProgress(halfway, 120);
    const bar = line.slice(1, line.indexOf(']'));
    expect(bar.split('#').length - 1).toBe(Math.round(bar.length / 2));
  });

  it('shows rate and elapsed time when the size is unknown (stdin)', () => {
    expect(renderProgress(streaming, 120)).toBe('12,345 messages  1.2 MiB  190 msg/s  1:05');
  });

  it('says 1 message, not 1 messages', () => {
    const one = { messages: 1, bytes: 5, elapsedMs: 1000 };
    expect(renderProgress(one, 80)).toBe('1 message  5 B  1 msg/s  0:01');
    expect(renderProgress({ ...one, messages: 0 }, 80)).toMatch(/^0 messages/);
  });

  it('has no ETA before anything is acknowledged', () => {
    expect(renderProgress({ messages: 0, bytes: 0, elapsedMs: 10, done: 0 }, 80)).toMatch(
      /^\[-+\] {3}0% {2}0 messages .* ETA -:--$/,
    );
  });

  it('keeps percent, ETA and the count at 40 columns, and drops the rest', () => {
    expect(renderProgress(halfway, 40)).toBe(' 50%  12,345 messages  0:03  ETA 0:03');
    expect(renderProgress(streaming, 40)).toBe('12,345 messages  190 msg/s  1:05');
  });

  it('is never longer than the width minus one, however narrow', () => {
    const views: ProgressView[] = [
      halfway,
      streaming,
      { messages: 1e12, bytes: 1e15, elapsedMs: 1e9, done: 0.999 },
      { messages: 0, bytes: 0, elapsedMs: 0, done: 0 },
    ];
    for (const view of views) {
      for (let columns = 0; columns <= 200; columns++) {
        expect(renderProgress(view, columns).length).toBeLessThanOrEqual(Math.max(columns - 1, 0));
      }
    }
  });
});
