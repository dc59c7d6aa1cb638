// Publishable: the packed tarballs install into an empty directory outside the repository and
// work there, the way a user gets them from a registry.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, readValues, uniqueTopic } from '@kproxy/testkit';
import { startProxy, type ProxyProcess } from '@kproxy/testkit/proxy-process';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['packages/framing', 'packages/protocol', 'packages/client', 'apps/cli'];

let proxy: ProxyProcess;
let dir: string;
let app: string;
/** Each tarball's file list, by file name. */
const contents = new Map<string, string[]>();
beforeAll(async () => {
  proxy = await startProxy({ brokers: kafkaBrokers() });
  dir = await mkdtemp(join(tmpdir(), 'kproxy-pack-'));
  const tarballs = join(dir, 'tarballs');
  for (const pkg of PACKAGES) {
    await exec('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(ROOT, pkg) });
  }
  app = join(dir, 'app');
  await exec('mkdir', ['-p', app]);
  await writeFile(
    join(app, 'package.json'),
    '{ "name": "app", "private": true, "type": "module" }',
  );
  const files = (await readdir(tarballs)).map((f) => join(tarballs, f));
  for (const file of files) {
    const { stdout } = await exec('tar', ['tzf', file]);
    contents.set(basename(file), stdout.split('\n').filter(Boolean));
  }
  await exec('npm', ['install', '--no-audit', '--no-fund', ...files], { cwd: app });
}, 180_000);
afterAll(async () => {
  await proxy.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('depend on each other by version, not workspace:', async () => {
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/@kproxy/client/package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['@kproxy/framing']).toMatch(/^\^?\d+\.\d+\.\d+$/);
    expect(pkg.dependencies['@kproxy/protocol']).toMatch(/^\^?\d+\.\d+\.\d+$/);
  });

  it('are the scoped packages, each with its LICENSE and README', () => {
    expect([...contents.keys()].sort()).toEqual([
      'kproxy-cli-0.1.0.tgz',
      'kproxy-client-0.1.0.tgz',
      'kproxy-framing-0.1.0.tgz',
      'kproxy-protocol-0.1.0.tgz',
    ]);
    for (const files of contents.values()) {
      expect(files).toEqual(
        expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/package.json']),
      );
    }
  });

  it('ship no tests, test helpers or benchmarks', () => {
    for (const [tarball, files] of contents) {
      const shipped = files.filter((f) => /\.test\.|(^|\/)(test|bench|testing)\//.test(f));
      expect({ tarball, shipped }).toEqual({ tarball, shipped: [] });
      expect(files.some((f) => f.startsWith('package/dist/'))).toBe(true);
    }
  });

  it('say where they come from and under which licence', async () => {
    for (const name of ['framing', 'protocol', 'client', 'cli']) {
      const pkg = JSON.parse(
        await readFile(join(app, `node_modules/@kproxy/${name}/package.json`), 'utf8'),
      ) as Record<string, unknown>;
      expect(pkg).toMatchObject({ name: `@kproxy/${name}`, license: 'MIT' });
      const repository = pkg.repository as { type: string; url: string; directory: string };
      expect(repository.type).toBe('git');
      expect(repository.url).toMatch(/^git\+https:\/\/github\.com\//);
      expect(repository.directory).toMatch(new RegExp(`/${name}$`));
      expect((pkg.bugs as { url: string }).url).toMatch(/^https:\/\//);
      expect(pkg.homepage).toMatch(/^https:\/\//);
      expect((pkg.keywords as string[]).length).toBeGreaterThan(0);
      const license = await readFile(join(app, `node_modules/@kproxy/${name}/LICENSE`), 'utf8');
      expect(license).toContain('Copyright (c) 2026 the kafka-proxy authors');
    }
  });

  it('npx kproxy --help works from the scoped @kproxy/cli package', async () => {
    const { stdout } = await exec('npx', ['kproxy', '--help'], { cwd: app });
    expect(stdout).toContain('Usage: kproxy [options] [command]');
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/@kproxy/cli/package.json'), 'utf8'),
    ) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ kproxy: './dist/main.js' });
  });

  it('an ESM script imports @kproxy/client and sends a message to the server', async () => {
    const topic = uniqueTopic('packed');
    await createTopic(topic);
    await writeFile(
      join(app, 'send.mjs'),
      `import { KafkaProxyClient } from '@kproxy/client';
const client = new KafkaProxyClient({ url: process.env.KPROXY_URL, token: process.env.KPROXY_TOKEN });
const result = await client.send('from the packed SDK', { topic: process.argv[2] });
await client.close();
console.log(JSON.stringify(result));
`,
    );
    const { stdout } = await exec(process.execPath, ['send.mjs', topic], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', KPROXY_URL: proxy.url, KPROXY_TOKEN: proxy.token },
    });
    expect(JSON.parse(stdout)).toMatchObject({ topic, offset: '0', durable: true });
    expect((await readValues(topic, 1)).map(String)).toEqual(['from the packed SDK']);
  });

  it('the installed kproxy pushes to the server', async () => {
    const topic = uniqueTopic('packed-cli');
    await createTopic(topic);
    await exec('sh', ['-c', `printf 'a\\nb\\n' | npx kproxy push --topic ${topic}`], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', KPROXY_URL: proxy.url, KPROXY_TOKEN: proxy.token },
    });
    expect((await readValues(topic, 2)).map(String)).toEqual(['a', 'b']);
  });
});
