// What the build ships and what the packaging scripts point at: no test helpers compiled into
// dist/, and no reference to a test file that is not there.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const server = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(server, '../..');

describe('the server build', () => {
  it('compiles no test helpers and no tests into dist/', async () => {
    const tsc = createRequire(join(server, 'package.json')).resolve('typescript/bin/tsc');
    // The files the build compiles, with everything they import: a helper pulled in by an import
    // from non-test code would be listed although the tsconfig excludes it.
    const { stdout } = await run(
      process.execPath,
      [tsc, '-p', 'tsconfig.build.json', '--listFilesOnly'],
      { cwd: server, timeout: 120_000 },
    );
    const compiled = stdout
      .split('\n')
      .map((f) => f.trim())
      .filter((f) => f.startsWith(server) && !f.includes('/node_modules/'))
      .map((f) => relative(server, f));
    expect(compiled).toContain('src/main.ts');
    expect(compiled.filter((f) => !f.startsWith('src/') || f.includes('.test.'))).toEqual([]);
  });

  it('keeps the test helpers out of src/, beside the tests that import them', () => {
    expect(existsSync(join(server, 'src/testing'))).toBe(false);
    expect(existsSync(join(server, 'test/support/test-app.ts'))).toBe(true);
    expect(existsSync(join(server, 'test/support/fake-producer.ts'))).toBe(true);
  });
});

describe('the packaging scripts and docs', () => {
  it('name only test files that exist', () => {
    const files = ['docker', 'scripts', 'deploy/kubernetes', 'docs']
      .flatMap((dir) => readdirSync(join(root, dir)).map((f) => join(dir, f)))
      .concat(['apps/server/README.md'])
      .filter((f) => /\.(sh|md|yaml|mjs)$|Dockerfile$/.test(f));
    const named = files.flatMap((f) =>
      [...readFileSync(join(root, f), 'utf8').matchAll(/[\w./-]+\.test\.ts\b/g)].map((m) => ({
        in: f,
        path: m[0],
      })),
    );
    expect(named.length).toBeGreaterThan(0);
    // Paths are written from the repository root or from the server's directory.
    const missing = named.filter(
      (n) => !existsSync(join(root, n.path)) && !existsSync(join(server, n.path)),
    );
    expect(missing).toEqual([]);
  });
});
