import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { splitLines } from './lines.js';

async function lines(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  const source = Readable.from(chunks.map((c) => Buffer.from(c, 'latin1')));
  for await (const line of splitLines(source)) out.push(Buffer.from(line).toString('latin1'));
  return out;
}

describe('splitLines', () => {
  it('splits on \\n, drops a \\r before it, and keeps a last line without \\n', async () => {
    expect(await lines(['a\nb\r\nc'])).toEqual(['a', 'b', 'c']);
    expect(await lines(['a\n\nb\n'])).toEqual(['a', '', 'b']);
    expect(await lines([''])).toEqual([]);
  });

  it('gives the same lines however the input is chunked', async () => {
    const text = 'first line\nsecond\r\n\nthird \u0000 with nul\nlast';
    const expected = await lines([text]);
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(await lines(chunks)).toEqual(expected);
    }
  });

  it('joins a very long line spread over many chunks', async () => {
    const chunks = Array.from({ length: 1000 }, () => 'x'.repeat(1000));
    const result = await lines([...chunks, '\nend']);
    expect(result.map((l) => l.length)).toEqual([1_000_000, 3]);
  });

  it('passes bytes that are not UTF-8 through unchanged', async () => {
    const source = Readable.from([Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x80])]);
    const out: number[][] = [];
    for await (const line of splitLines(source)) out.push([...line]);
    expect(out).toEqual([[0xff, 0xfe, 0x00], [0x80]]);
  });
});
