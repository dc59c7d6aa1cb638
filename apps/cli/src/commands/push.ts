import { DEFAULTS, type KafkaProxyClientOptions, type SendOptions } from '@kproxy/client';
import { Command, Option } from 'commander';
import { unlessAborted } from '../abortable.js';
import { connect, type ConnectionFlags } from '../connection.js';
import { CliError, describeError } from '../errors.js';
import { formatBytes, formatCount, formatSeconds, plural } from '../format.js';
import type { CliIO } from '../io.js';
import { integer } from '../parse.js';
import { Progress } from '../progress.js';
import { recordMaker, withRecordOptions, type RecordFlags } from '../records.js';
import { openInput, type InputMode } from '../sources.js';

interface PushFlags extends ConnectionFlags, RecordFlags {
  topic?: string;
  perFile?: boolean;
  framed?: boolean;
  skipEmpty?: boolean;
  batchMessages?: number;
  batchBytes?: number;
  lingerMs?: number;
  maxMessageBytes?: number;
  attempts?: number;
  retryForMs?: number;
  gzip?: boolean;
  buffered?: boolean;
  progress: boolean;
  json?: boolean;
}

/** What a push did, printed as the summary line (or as JSON with `--json`). */
export interface PushSummary {
  ok: boolean;
  topic: string | undefined;
  messages: number;
  bytes: number;
  failed: number;
  requests: number;
  retries: number;
  seconds: number;
  error?: string;
}

export function pushCommand(io: CliIO): Command {
  const command = new Command('push')
    .summary('push messages to Kafka through the proxy')
    .description(
      'Push messages read from files, or from stdin when no file is given (or for "-"). ' +
        'By default every line is one message (a trailing \\r is dropped); --per-file makes ' +
        'each file one message; --framed reads input that is already framed (see kproxy frame). ' +
        'As with kcat, -K splits each message into key<sep>value, -H adds headers and -Z sends ' +
        'empty values as tombstones. ' +
        'Messages are batched and retried by the SDK; the command exits 1 if any message fails.',
    )
    .argument('[files...]', 'input files (default: stdin)')
    .option('-t, --topic <topic>', "topic to push to (default: the server's default topic)")
    .addOption(new Option('--per-file', 'each file is one message').conflicts('framed'))
    .option('--framed', 'input is framed (4-byte little-endian length + bytes)')
    .option('--skip-empty', 'do not send empty lines');
  return withRecordOptions(command)
    .option('--batch-messages <n>', `most messages per request (${DEFAULTS.maxMessages})`, integer)
    .option('--batch-bytes <n>', `most bytes per request body (${DEFAULTS.maxBytes})`, integer)
    .option('--linger-ms <ms>', `wait this long to fill a batch (${DEFAULTS.lingerMs})`, integer)
    .option('--max-message-bytes <n>', 'largest message accepted (batch bytes - 4)', integer)
    .option(
      '--attempts <n>',
      'attempts per request, retries included (default: no limit within --retry-for-ms)',
      integer,
    )
    .option(
      '--retry-for-ms <ms>',
      `start no retry after this long, in ms (${DEFAULTS.maxElapsedMs})`,
      integer,
    )
    .option('--gzip', 'compress request bodies')
    .option('--buffered', 'ask for buffered acknowledgement (202) instead of durable')
    .option('--no-progress', 'never draw the progress bar (it is only drawn on a terminal)')
    .option('--json', 'print the summary as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ kproxy push --topic events events.txt
  $ tail -f app.log | kproxy push --topic logs
  $ printf 'user-1:{"n":1}\\nuser-2:\\n' | kproxy push -t users -K : -H source=cli --null-empty-values
  $ kproxy push --topic blobs --per-file images/*.png
  $ kproxy frame < lines.txt > body.bin && kproxy push --framed --topic events body.bin`,
    )
    .action(async (files: string[], _flags: PushFlags, command: Command) => {
      const flags = command.optsWithGlobals<PushFlags>();
      const summary = await push(files, flags, io);
      if (flags.json === true) io.stdout.write(`${JSON.stringify(summary)}\n`);
      if (summary.error === 'interrupted') throw new CliError('push interrupted', 130);
      if (!summary.ok) throw new CliError(`push failed: ${summary.error ?? 'unknown error'}`);
    });
}

async function push(files: string[], flags: PushFlags, io: CliIO): Promise<PushSummary> {
  const mode: InputMode = flags.framed ? 'framed' : flags.perFile ? 'per-file' : 'lines';
  let requests = 0;
  let retries = 0;
  const batch: NonNullable<KafkaProxyClientOptions['batch']> = {};
  if (flags.batchMessages !== undefined) batch.maxMessages = flags.batchMessages;
  if (flags.batchBytes !== undefined) batch.maxBytes = flags.batchBytes;
  if (flags.lingerMs !== undefined) batch.lingerMs = flags.lingerMs;
  const retry: NonNullable<KafkaProxyClientOptions['retry']> = {};
  // Enough unacknowledged messages to keep every connection busy, few enough to bound memory.
  const maxQueuedMessages =
    (flags.batchMessages ?? DEFAULTS.maxMessages) * (DEFAULTS.maxInFlight + 1);
  if (flags.attempts !== undefined) retry.attempts = flags.attempts;
  if (flags.retryForMs !== undefined) retry.maxElapsedMs = flags.retryForMs;
  const extra: Partial<KafkaProxyClientOptions> = {
    batch,
    retry,
    maxQueuedMessages,
    compression: flags.gzip === true ? 'gzip' : 'none',
    ack: flags.buffered === true ? 'buffered' : 'durable',
    hooks: {
      onBatchSent: () => void requests++,
      onRetry: () => void retries++,
    },
  };
  if (flags.maxMessageBytes !== undefined) extra.maxMessageBytes = flags.maxMessageBytes;
  if (flags.topic !== undefined) extra.topic = flags.topic;
  const client = connect(flags, io, extra);

  let read = 0;
  let sent = 0;
  let delivered = 0;
  let deliveredBytes = 0;
  let failed = 0;
  let landedTopic: string | undefined = flags.topic;
  let firstError: unknown;

  if ((files.length === 0 || files.includes('-')) && (io.stdin as { isTTY?: boolean }).isTTY) {
    io.stderr.write('kproxy: reading messages from the terminal; end with Ctrl-D\n');
  }
  const started = Date.now();
  const progress = new Progress(io.stderr, flags.progress);
  const input = await openInput(files, mode, io, (n) => (read += n), flags.maxMessageBytes).catch(
    async (err: unknown) => {
      await client.close();
      throw err;
    },
  );
  const report = (): void =>
    progress.update({
      messages: delivered,
      bytes: deliveredBytes,
      sent,
      read,
      total: input.totalBytes,
    });
  const sendOptions: SendOptions = {};
  const toRecord = recordMaker(flags);

  // First Ctrl-C: stop reading, deliver what is queued, report. A second one exits at once.
  const interruption = new AbortController();
  const releaseInterrupt = io.onInterrupt?.(() => {
    if (interruption.signal.aborted) return;
    if (progress.active) io.stderr.write('\n');
    io.stderr.write('kproxy: interrupted; delivering queued messages (Ctrl-C again to quit)\n');
    interruption.abort();
  });
  const messages = input.messages[Symbol.asyncIterator]();

  try {
    for (;;) {
      const next = await unlessAborted(messages.next(), interruption.signal);
      if (next === undefined || next.done === true || interruption.signal.aborted) break;
      const message = next.value;
      if (firstError !== undefined) break;
      if (flags.skipEmpty === true && message.length === 0) continue;
      sent++;
      client
        .send(toRecord ? toRecord(message) : message, sendOptions)
        .then(
          (result) => {
            delivered++;
            deliveredBytes += message.length;
            landedTopic ??= result.topic;
          },
          (err: unknown) => {
            failed++;
            firstError ??= err;
          },
        )
        .finally(report)
        .catch(() => undefined);
      // The client bounds what it holds; stop reading while it is full.
      await unlessAborted(client.waitForRoom(), interruption.signal);
    }
  } catch (err) {
    firstError ??= err;
  } finally {
    if (interruption.signal.aborted) void messages.return?.(undefined).catch(() => undefined);
    await client.close().catch((err: unknown) => (firstError ??= err));
    report();
    progress.stop();
    releaseInterrupt?.();
  }

  const elapsed = Date.now() - started;
  const summary: PushSummary = {
    ok: firstError === undefined,
    topic: landedTopic,
    messages: delivered,
    bytes: deliveredBytes,
    failed,
    requests,
    retries,
    seconds: elapsed / 1000,
  };
  const where = landedTopic === undefined ? "the server's default topic" : `topic ${landedTopic}`;
  const stats = `${formatCount(delivered / Math.max(elapsed / 1000, 0.001))} msg/s, ${plural(requests, 'request')}, ${plural(retries, 'retry', 'retries')}`;
  if (interruption.signal.aborted && firstError === undefined) {
    summary.ok = false;
    summary.error = 'interrupted';
    io.stderr.write(
      `interrupted: pushed ${plural(delivered, 'message')} (${formatBytes(deliveredBytes)}) to ${where} in ${formatSeconds(elapsed)}\n`,
    );
  } else if (firstError === undefined) {
    io.stderr.write(
      `pushed ${plural(delivered, 'message')} (${formatBytes(deliveredBytes)}) to ${where} in ${formatSeconds(elapsed)} (${stats})\n`,
    );
  } else {
    summary.error = describeError(firstError);
    io.stderr.write(
      `delivered ${plural(delivered, 'message')} to ${where} before failing; ${formatCount(failed)} failed\n`,
    );
  }
  return summary;
}
