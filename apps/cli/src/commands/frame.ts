import { encodeFrame, encodeRecords } from '@kproxy/framing';
import { CONTENT_TYPES, HEADERS, producePath } from '@kproxy/protocol';
import { Command } from 'commander';
import { writeAll, type CliIO } from '../io.js';
import { integer } from '../parse.js';
import { recordMaker, withRecordOptions, type RecordFlags } from '../records.js';
import { openInput } from '../sources.js';

interface FrameFlags extends RecordFlags {
  perFile?: boolean;
  skipEmpty?: boolean;
}

export function frameCommand(io: CliIO): Command {
  const command = new Command('frame')
    .description(
      'turn lines (stdin or files) into a framed body on stdout, one frame per line; with a ' +
        `key, headers or null values, a records body (${CONTENT_TYPES.records})`,
    )
    .argument('[files...]', 'input files (default: stdin)')
    .option('--per-file', 'each file is one frame')
    .option('--skip-empty', 'do not frame empty lines');
  return withRecordOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ printf 'hello\\nworld\\n' | kproxy frame > body.bin
  $ curl -H "${HEADERS.token}: $KPROXY_TOKEN" -H 'content-type: ${CONTENT_TYPES.frames}' \\
      --data-binary @body.bin "$KPROXY_URL${producePath('events')}"
  $ printf 'user-1:hello\\n' | kproxy frame -K : -H source=curl |
      curl -H "${HEADERS.token}: $KPROXY_TOKEN" -H 'content-type: ${CONTENT_TYPES.records}' \
      --data-binary @- "$KPROXY_URL${producePath('events')}"`,
    )
    .action(async (files: string[], flags: FrameFlags) => {
      const toRecord = recordMaker(flags);
      const input = await openInput(
        files,
        flags.perFile ? 'per-file' : 'lines',
        io,
        () => undefined,
      );
      for await (const message of input.messages) {
        if (flags.skipEmpty === true && message.length === 0) continue;
        await writeAll(
          io.stdout,
          toRecord ? encodeRecords([toRecord(message)]) : encodeFrame(message),
        );
      }
    });
}

export function unframeCommand(io: CliIO): Command {
  return new Command('unframe')
    .description('turn a framed body (stdin or files) into lines on stdout, one line per frame')
    .argument('[files...]', 'input files (default: stdin)')
    .option('--max-message-bytes <n>', 'reject frames longer than this', integer)
    .addHelpText(
      'after',
      `
Note: a message that contains a newline spans several output lines.

Example:
  $ kproxy unframe < body.bin`,
    )
    .action(async (files: string[], flags: { maxMessageBytes?: number }) => {
      const input = await openInput(files, 'framed', io, () => undefined, flags.maxMessageBytes);
      const newline = new Uint8Array([0x0a]);
      for await (const message of input.messages) {
        await writeAll(io.stdout, message);
        await writeAll(io.stdout, newline);
      }
    });
}
