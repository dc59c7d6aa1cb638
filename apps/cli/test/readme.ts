import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MAIN } from './run-cli.js';

const exec = promisify(execFile);
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const README_URL = 'http://127.0.0.1:8080';

/** The first shell block under `heading` in the README. */
export async function readmeExamples(heading = '## Examples'): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error(`README.md has no \`\`\`sh block under ${heading}`);
  return match[1];
}

/**
 * Runs the README examples under `heading` with bash (stopping at the first failing command) in
 * an empty directory, with `kproxy` on PATH and the README's URL and token replaced by the given
 * ones; resolves with the output and the files the examples wrote.
 */
export async function runReadmeExamples(
  url: string,
  token: string,
  heading?: string,
): Promise<{ stdout: string; stderr: string; files: Map<string, Buffer> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kproxy-readme-'));
  try {
    const bin = join(dir, 'kproxy');
    await writeFile(bin, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
    await chmod(bin, 0o755);
    const script = (await readmeExamples(heading))
      .replace(README_URL, url)
      .replace('KPROXY_TOKEN=secret', `KPROXY_TOKEN=${token}`);
    const output = await exec('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      env: { PATH: `${dir}:${process.env.PATH ?? ''}` },
    });
    const files = new Map<string, Buffer>();
    for (const name of await readdir(dir)) {
      if (name !== 'kproxy') files.set(name, await readFile(join(dir, name)));
    }
    return { ...output, files };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
