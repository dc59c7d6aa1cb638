// The vitest configuration every workspace shares: a `unit` project for `src/**/*.test.ts` and an
// `integration` project for `test/**/*.test.ts` that runs against the test run's Kafka broker.
// Plain JavaScript (types in vitest-config.d.ts): vitest loads a config's imports with Node itself.
import { defineConfig } from 'vitest/config';

/**
 * A workspace's `vitest.config.ts`: the shared `unit` and `integration` projects, each with the
 * workspace's own settings on top.
 *
 * @example
 * export default workspaceProjects({ unit: { testTimeout: 30_000 } });
 *
 * @param {import('./vitest-config.js').WorkspaceProjectsOptions} [overrides]
 * @returns {import('vitest/config').ViteUserConfig}
 */
export function workspaceProjects(overrides = {}) {
  return defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: { name: 'unit', include: ['src/**/*.test.ts'], ...overrides.unit },
        },
        {
          extends: true,
          test: {
            name: 'integration',
            include: ['test/**/*.test.ts'],
            globalSetup: ['@kproxy/testkit/global-setup'],
            testTimeout: 60_000,
            hookTimeout: 180_000,
            ...overrides.integration,
          },
        },
      ],
    },
  });
}
