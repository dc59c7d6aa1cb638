import { Writable } from 'node:stream';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { pinoLogCreator } from './kafka-log.js';
import { createLogger } from './logger.js';

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

  it('bridges kafkajs log entries into pino at the matching level, broker error responses as warnings', () => {
    const { logger, lines } = capture();
    const log = pinoLogCreator(logger)(kafkajs.logLevel.DEBUG);
    log({
      namespace: 'Producer',
      level: kafkajs.logLevel.WARN,
      label: 'WARN',
      log: { timestamp: 't', message: 'slow broker', broker: 'b:9092' },
    });
    log({
      namespace: 'Connection',
      level: kafkajs.logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 't', message: 'refused' },
    });
    log({
      namespace: 'Connection',
      level: kafkajs.logLevel.ERROR,
      label: 'ERROR',
      log: {
        timestamp: 't',
        message: 'Response Metadata(key: 3, version: 6)',
        error: 'This server does not host this topic-partition',
      },
    });
    expect(lines).toMatchObject([
      {
        level: 'warn',
        component: 'kafkajs',
        namespace: 'Producer',
        broker: 'b:9092',
        msg: 'slow broker',
      },
      { level: 'error', component: 'kafkajs', namespace: 'Connection', msg: 'refused' },
      {
        level: 'warn',
        namespace: 'Connection',
        msg: 'Response Metadata(key: 3, version: 6)',
        error: 'This server does not host this topic-partition',
      },
    ]);
  });
});
