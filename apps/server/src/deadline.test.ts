import { describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('gives the result of work that finishes in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 1_000, () => new Error('late'))).resolves.toBe(7);
  });

  it('passes on the failure of work that fails in time', async () => {
    const failure = new Error('broken');
    await expect(
      withDeadline(Promise.reject(failure), 1_000, () => new Error('late')),
    ).rejects.toBe(failure);
  });

  it('rejects with the timeout error once the deadline passed', async () => {
    const started = Date.now();
    await expect(
      withDeadline(new Promise(() => undefined), 30, () => new Error('too slow')),
    ).rejects.toThrow('too slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
