import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        // Generous: these tests use real sockets and child processes on a machine that may be busy.
        test: { name: 'unit', include: ['src/**/*.test.ts'], testTimeout: 15_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['@kproxy/testkit/global-setup'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
