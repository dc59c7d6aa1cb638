import { readFileSync } from 'node:fs';

/**
 * The server's version, read from its package.json at run time: the file sits one directory above
 * both `src/` and `dist/`, in the repository, the npm tarball and the image alike, so the version
 * shown is the one that was packed, never a copy compiled in.
 *
 * @example
 * process.stdout.write(`kafka-proxy ${serverVersion()}\n`);
 */
export function serverVersion(): string {
  const manifest = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
  return manifest.version;
}
