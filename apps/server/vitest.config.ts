import { workspaceProjects } from '@kproxy/testkit/vitest-config';

export default workspaceProjects({
  integration: {
    // One file at a time: the load, memory and timing tests measure the server, and must not
    // share two CPU cores with each other.
    fileParallelism: false,
  },
});
