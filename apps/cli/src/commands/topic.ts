import { TOPIC_NAME_RULE } from '@kproxy/protocol';
import { Command } from 'commander';
import { connect, type ConnectionFlags } from '../connection.js';
import type { CliIO } from '../io.js';

export function topicCommand(io: CliIO): Command {
  const topic = new Command('topic')
    .summary("read or change the server's default topic")
    .description(
      'The default topic is where `POST /` (and `kproxy push` without --topic) produces. ' +
        'The server keeps it across restarts.',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ kproxy topic get
  $ kproxy topic set events`,
    );

  topic
    .command('get')
    .description("print the server's default topic")
    .addHelpText('after', '\nExample:\n  $ kproxy topic get --url https://kafka.example.com')
    .action(async (_flags: unknown, command: Command) => {
      const client = connect(command.optsWithGlobals<ConnectionFlags>(), io);
      try {
        io.stdout.write(`${await client.getTopic()}\n`);
      } finally {
        await client.close();
      }
    });

  topic
    .command('set')
    .description("make <topic> the server's default topic")
    .argument('<topic>', `topic name: ${TOPIC_NAME_RULE}`)
    .addHelpText('after', '\nExample:\n  $ kproxy topic set events')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const client = connect(command.optsWithGlobals<ConnectionFlags>(), io);
      try {
        await client.setTopic(name);
        io.stdout.write(`Topic changed to ${name}\n`);
      } finally {
        await client.close();
      }
    });
  return topic;
}
