import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, droppedLogLines, LogOutput } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

describe('logging', () => {
  it('redacts credential headers if a log line ever includes them', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        headers: {
          'x-kafka-proxy-token': 'secret-1',
          authorization: 'Bearer secret-2',
          accept: '*/*',
        },
      },
      'x',
    );
    expect(JSON.stringify(lines)).not.toMatch(/secret-/);
    expect(lines[0]?.headers).toMatchObject({ accept: '*/*' });
  });
});

describe('log output', () => {
  /** A reader that takes the first chunk and then stalls until released. */
  function stalledReader() {
    const lines: string[] = [];
    const held: (() => void)[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        held.push(done);
      },
    });
    const release = () => {
      while (held.length > 0) held.shift()?.();
    };
    return { out, lines, release };
  }

  it('drops and counts what does not fit while stdout is not read, then says so', async () => {
    const reader = stalledReader();
    const logger = createLogger('info', new LogOutput(reader.out, 2_000));
    for (let i = 0; i < 100; i++) logger.info({ i, pad: 'p'.repeat(100) }, 'request');
    const dropped = droppedLogLines(logger);
    expect(dropped).toBeGreaterThan(80);
    expect(reader.out.writableLength).toBeLessThanOrEqual(2_000);
    expect(droppedLogLines(logger.child({ reqId: 'x' }))).toBe(dropped);

    // The reader catches up: the next line is written, and a notice of the gap follows it.
    for (let i = 0; i < 50 && reader.out.writableLength > 0; i++) {
      reader.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    logger.info('after the stall');
    for (let i = 0; i < 5; i++) {
      reader.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const parsed = reader.lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.length).toBe(100 - dropped + 2);
    expect(parsed.at(-2)).toMatchObject({ msg: 'after the stall' });
    expect(parsed.at(-1)).toMatchObject({ level: 'warn', droppedLogLines: dropped });
  });

  it('counts every line as dropped once the reader is gone, and never throws', async () => {
    const out = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const logger = createLogger('info', new LogOutput(out));
    logger.info('first');
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => {
      for (let i = 0; i < 10; i++) logger.info('lost');
    }).not.toThrow();
    expect(droppedLogLines(logger)).toBe(10);
  });
});
