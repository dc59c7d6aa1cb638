const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines without decoding it, so any bytes but `\n` pass unchanged.
 * A `\r` before `\n` is dropped (CRLF files); a last line without `\n` is still a line; the
 * empty string after a final `\n` is not. Reports each chunk's size to `onBytes`.
 */
export async function* splitLines(
  source: AsyncIterable<Uint8Array>,
  onBytes?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  // Pieces of a line that spans chunks; joined once, when its end arrives.
  let carry: Uint8Array[] = [];
  for await (const chunk of source) {
    onBytes?.(chunk.length);
    let start = 0;
    let nl = chunk.indexOf(LF);
    while (nl !== -1) {
      let line = chunk.subarray(start, nl);
      if (carry.length > 0) {
        carry.push(line);
        line = join(carry);
        carry = [];
      }
      yield stripCr(line);
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) yield join(carry);
}

function stripCr(line: Uint8Array): Uint8Array {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, -1) : line;
}

function join(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
