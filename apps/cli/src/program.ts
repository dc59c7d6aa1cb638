import { Command, CommanderError, Option } from 'commander';
import { frameCommand, unframeCommand } from './commands/frame.js';
import { healthCommand } from './commands/health.js';
import { pushCommand } from './commands/push.js';
import { topicCommand } from './commands/topic.js';
import { CliError, describeError } from './errors.js';
import type { CliIO } from './io.js';
import { integer } from './parse.js';

/** Builds the `kproxy` command tree, writing only to the streams in `io`. */
export function createProgram(io: CliIO): Command {
  const program = new Command('kproxy')
    .description('Push messages into Kafka through kafka-proxy, and manage its default topic.')
    .version('0.1.0', '-V, --version')
    .addOption(new Option('-u, --url <url>', 'proxy base URL (env: KPROXY_URL)'))
    .addOption(new Option('-k, --token <token>', 'proxy token (env: KPROXY_TOKEN)'))
    .option('--timeout <ms>', 'per-request timeout in ms (30000)', integer)
    .option(
      '--cacert <file>',
      "trust the CA certificates in this PEM file, not Node's built-in list",
    )
    .option('--insecure', "do not verify the server's TLS certificate (for tests)")
    .addHelpText(
      'after',
      `
Examples:
  $ export KPROXY_URL=https://kafka.example.com KPROXY_TOKEN=secret
  $ kproxy push --topic events events.txt
  $ kproxy topic set events
  $ kproxy health
  $ kproxy --cacert private-ca.pem --url https://kafka.internal health`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  for (const command of [
    pushCommand(io),
    topicCommand(io),
    healthCommand(io),
    frameCommand(io),
    unframeCommand(io),
  ]) {
    program.addCommand(command);
  }
  const exitOverride = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
    command.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}

/** Runs `kproxy` with `argv` (without node and script path); resolves with the exit code. */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed help, the version, or what was wrong with the arguments.
      return err.exitCode === 0 ? 0 : 2;
    }
    io.stderr.write(`kproxy: ${describeError(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
