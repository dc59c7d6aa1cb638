// The record flags `push` and `frame` share, kcat's where it has them: a key for every message
// (`--key`) or one per line (`--key-separator`, kcat's -K), headers (`--header`, kcat's -H) and
// tombstones for empty values (`--null-empty-values`, kcat's -Z).
import type { ProxyRecord, RecordHeader } from '@kproxy/framing';
import { type Command, InvalidArgumentError, Option } from 'commander';

export interface RecordFlags {
  key?: string;
  keySeparator?: string;
  header?: RecordHeader[];
  nullEmptyValues?: boolean;
}

/** Adds the record flags to `command`. */
export function withRecordOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--key <key>', 'give every message this key (UTF-8)').conflicts('keySeparator'),
    )
    .option(
      '-K, --key-separator <sep>',
      'each message is key<sep>value, split at the first <sep>; without <sep> it has no key',
      nonEmpty,
    )
    .option(
      '-H, --header <name=value>',
      'add this header to every message (repeatable; name=value, split at the first =)',
      header,
    )
    .option('-Z, --null-empty-values', 'send an empty value as null: a tombstone for its key');
}

/**
 * The function that turns each input message into a record as the flags say, or `undefined`
 * when they ask for nothing a plain message cannot carry.
 */
export function recordMaker(
  flags: RecordFlags,
): ((message: Uint8Array) => ProxyRecord) | undefined {
  const { keySeparator, nullEmptyValues = false } = flags;
  const headers = flags.header ?? [];
  const fixedKey = flags.key === undefined ? null : Buffer.from(flags.key);
  if (fixedKey === null && keySeparator === undefined && headers.length === 0 && !nullEmptyValues) {
    return undefined;
  }
  const separator = keySeparator === undefined ? undefined : Buffer.from(keySeparator);
  return (message) => {
    let key: Uint8Array | null = fixedKey;
    let value = message;
    if (separator) {
      const at = Buffer.from(message.buffer, message.byteOffset, message.length).indexOf(separator);
      if (at >= 0) {
        key = message.subarray(0, at);
        value = message.subarray(at + separator.length);
      }
    }
    return {
      key,
      value: nullEmptyValues && value.length === 0 ? null : value,
      headers,
      timestamp: null,
    };
  };
}

function nonEmpty(value: string): string {
  if (value === '') throw new InvalidArgumentError('expected a non-empty separator');
  return value;
}

function header(value: string, previous: RecordHeader[] | undefined): RecordHeader[] {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected name=value with a non-empty name');
  return [
    ...(previous ?? []),
    { name: value.slice(0, at), value: Buffer.from(value.slice(at + 1)) },
  ];
}
