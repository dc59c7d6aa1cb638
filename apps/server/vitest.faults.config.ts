// The fault suite (`npm run test:faults`): real brokers stopped, killed and restarted, and the
// real proxy killed and restarted, under load. scripts/test-faults.sh starts the clusters; a file
// run on its own starts its own. One file at a time: each loads both cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'faults',
    include: ['test/faults/*.fault.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 180_000,
  },
});
