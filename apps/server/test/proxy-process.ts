// Starts the built server (`dist/main.js`) as a child process, the way an operator runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** A running `kafka-proxy` process. */
export interface ProxyProcess {
  url: string;
  child: ChildProcess;
  /** Everything it logged, one string per line. */
  logs: string[];
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns the server with `env` (plus the token and broker settings tests always need). */
export async function startProxy(env: Record<string, string>): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let timer: NodeJS.Timeout | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        const match = /"url":"([^"]+)"/.exec(line);
        if (match?.[1] !== undefined && line.includes('"listening"')) resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) =>
      reject(new Error(`kafka-proxy exited with ${code} before listening:\n${logs.join('\n')}`)),
    );
    // Never leave an orphan behind: a server that does not come up in time is killed.
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kafka-proxy did not log "listening" within 30 s:\n${logs.join('\n')}`));
    }, 30_000);
  }).finally(() => clearTimeout(timer));
  return {
    url,
    child,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
