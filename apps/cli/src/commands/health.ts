import { Command } from 'commander';
import { connect, type ConnectionFlags } from '../connection.js';
import { CliError } from '../errors.js';
import type { CliIO } from '../io.js';

export function healthCommand(io: CliIO): Command {
  return new Command('health')
    .description('check that the proxy is live and ready (exit 0 only when ready)')
    .addHelpText(
      'after',
      `
Examples:
  $ kproxy health --url https://kafka.example.com
  $ until kproxy health; do sleep 1; done`,
    )
    .action(async (_flags: unknown, command: Command) => {
      // Health routes need no token; accept a missing one.
      const flags = command.optsWithGlobals<ConnectionFlags>();
      const client = connect({ ...flags, token: flags.token ?? io.env.token ?? '-' }, io);
      try {
        const status = await client.health();
        io.stdout.write(
          `live: ${status.live ? 'yes' : 'no'}\nready: ${status.ready ? 'yes' : 'no'}\n`,
        );
        if (!status.ready) throw new CliError(`not ready: ${status.reason ?? 'unknown reason'}`);
      } finally {
        await client.close();
      }
    });
}
