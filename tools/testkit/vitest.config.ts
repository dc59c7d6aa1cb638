import { workspaceProjects } from '@kproxy/testkit/vitest-config';

export default workspaceProjects();
