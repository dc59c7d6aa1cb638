import { describe, expect, it } from 'vitest';
import { BufferBudget } from './buffer-budget.js';
import { createMetrics } from './metrics.js';

async function reservedBytes(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const { values } = await metrics.reservedBytes.get();
  return values[0]?.value ?? Number.NaN;
}

describe('BufferBudget', () => {
  it('refuses bytes past its limit with buffer_full (503) and keeps what it held', () => {
    const budget = new BufferBudget(100);
    const r = budget.reserve();
    r.grow(60);
    expect(() => budget.reserve().grow(41)).toThrow(
      expect.objectContaining({ code: 'buffer_full', status: 503 }),
    );
    expect(budget.used).toBe(60);
    r.release();
    r.release();
    expect(budget.used).toBe(0);
  });

  it('keeps kafka_proxy_reserved_bytes current as bytes are reserved and given back', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const budget = new BufferBudget(1000, metrics.reservedBytes);
    const a = budget.reserve();
    const b = budget.reserve();
    a.grow(300);
    b.grow(200);
    expect(await reservedBytes(metrics)).toBe(500);
    a.release();
    expect(await reservedBytes(metrics)).toBe(200);
    b.release();
    expect(await reservedBytes(metrics)).toBe(0);
  });
});
