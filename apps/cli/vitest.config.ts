import { workspaceProjects } from '@kproxy/testkit/vitest-config';

export default workspaceProjects({
  // Generous: these tests use real sockets and child processes on a machine that may be busy.
  unit: { testTimeout: 30_000 },
});
