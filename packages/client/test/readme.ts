import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The README's quick-start script: its first ```js block. */
export async function readmeQuickStart(): Promise<string> {
  const readme = await readFile(join(PACKAGE_DIR, 'README.md'), 'utf8');
  const match = /```js\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error('README.md has no ```js block');
  return match[1];
}

/**
 * Runs the README quick start as a user would: an .mjs file outside the repository that imports
 * `@kproxy/client` (linked to this package's build) with KPROXY_URL and KPROXY_TOKEN set.
 */
export async function runReadmeQuickStart(url: string, token: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kproxy-readme-'));
  try {
    await mkdir(join(dir, 'node_modules', '@kproxy'), { recursive: true });
    await symlink(PACKAGE_DIR, join(dir, 'node_modules', '@kproxy', 'client'), 'dir');
    await writeFile(join(dir, 'send.mjs'), await readmeQuickStart());
    const { stdout } = await exec(process.execPath, ['send.mjs'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', KPROXY_URL: url, KPROXY_TOKEN: token },
    });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
