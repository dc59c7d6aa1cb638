import type { TestProjectInlineConfiguration, ViteUserConfig } from 'vitest/config';

type ProjectTest = NonNullable<TestProjectInlineConfiguration['test']>;

export interface WorkspaceProjectsOptions {
  /** Settings added to (or replacing) the unit project's. */
  unit?: ProjectTest;
  /** Settings added to (or replacing) the integration project's. */
  integration?: ProjectTest;
}

/**
 * A workspace's `vitest.config.ts`: the shared `unit` and `integration` projects (`src/**` and
 * `test/**` tests; the integration one against the run's Kafka broker, with long timeouts), each
 * with the workspace's own settings on top.
 *
 * @example
 * export default workspaceProjects({ unit: { testTimeout: 30_000 } });
 */
export function workspaceProjects(overrides?: WorkspaceProjectsOptions): ViteUserConfig;
