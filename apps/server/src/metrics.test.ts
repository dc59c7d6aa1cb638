import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

/** Every metric family in the text format: name and type. */
async function families(text: Promise<string>): Promise<{ name: string; type: string }[]> {
  return [...(await text).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({
    name: m[1] ?? '',
    type: m[2] ?? '',
  }));
}

describe('createMetrics', () => {
  // promtool check metrics (run on a live server in test/management.test.ts) applies the same
  // naming rules; checked here too, without the tool.
  it('names counters and only counters with _total, in snake_case', async () => {
    const metrics = createMetrics();
    const all = await families(metrics.registry.metrics());
    expect(all.length).toBeGreaterThan(20);
    for (const { name, type } of all) {
      expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
      if (type === 'counter') expect(name, name).toMatch(/_total$/);
      else expect(name, `${type} ${name}`).not.toMatch(/_total$/);
    }
    // The per-type gauges whose sums were the misnamed ones stay.
    expect(all.map((f) => f.name)).toContain('nodejs_active_handles');
  });

  it('reports the build as kafka_proxy_build_info{version,node} 1', async () => {
    const text = await createMetrics({ version: '1.2.3' }).registry.metrics();
    expect(text).toContain(
      `kafka_proxy_build_info{version="1.2.3",node="${process.versions.node}"} 1`,
    );
  });

  it('counts dropped log lines as the logger reports them at each scrape', async () => {
    let dropped = 0;
    const metrics = createMetrics({ defaultMetrics: false, droppedLogLines: () => dropped });
    expect(await metrics.registry.metrics()).toContain('kafka_proxy_log_lines_dropped_total 0');
    dropped = 7;
    expect(await metrics.registry.metrics()).toContain('kafka_proxy_log_lines_dropped_total 7');
    dropped = 9;
    expect(await metrics.registry.metrics()).toContain('kafka_proxy_log_lines_dropped_total 9');
  });
});
