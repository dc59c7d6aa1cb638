import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { unlessAborted } from './abortable.js';

describe('unlessAborted', () => {
  it("gives the work's value while the signal has not aborted", async () => {
    const controller = new AbortController();
    await expect(unlessAborted(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(
      unlessAborted(Promise.reject(new Error('broken')), controller.signal),
    ).rejects.toThrow('broken');
  });

  it('gives undefined once the signal aborts, with the work still pending', async () => {
    const controller = new AbortController();
    const waiting = unlessAborted(new Promise<number>(() => undefined), controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    await expect(unlessAborted(Promise.resolve(7), AbortSignal.abort())).resolves.toBeUndefined();
  });

  it('keeps no listener on the signal for steps that settled', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 1_000; i++) {
      expect(await unlessAborted(Promise.resolve(i), controller.signal)).toBe(i);
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
