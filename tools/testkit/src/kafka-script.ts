import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository's `scripts/kafka.sh`. */
export const KAFKA_SCRIPT = fileURLToPath(new URL('../../../scripts/kafka.sh', import.meta.url));

export interface KafkaScriptOptions {
  /** Show the script's progress on this process's stderr instead of keeping it for errors. */
  inheritStderr?: boolean;
  /** Environment of the script; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `scripts/kafka.sh` with `args` and resolves to its stdout; rejects with the end of its
 * stderr when it exits non-zero. The script keeps its own timeouts, so this has none.
 *
 * @example
 * await runKafkaScript(['stop-node', '2', '--name', 'failover']);
 */
export function runKafkaScript(args: readonly string[], options: KafkaScriptOptions = {}) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe'],
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) {
        resolve(stdout);
        return;
      }
      const tail = stderr.trim().split('\n').slice(-15).join('\n');
      const how = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
      reject(
        new Error(`scripts/kafka.sh ${args.join(' ')} failed (${how})${tail ? `:\n${tail}` : ''}`),
      );
    });
  });
}

/** The broker list in a `KAFKA_BROKERS=a,b` line of kafka.sh's output. */
export function parseBrokers(stdout: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith('KAFKA_BROKERS='));
  if (line === undefined) throw new Error(`no KAFKA_BROKERS= line in kafka.sh output: ${stdout}`);
  return splitBrokers(line.slice('KAFKA_BROKERS='.length));
}

export function splitBrokers(list: string): string[] {
  return list
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
}
