/**
 * `work`'s value, or `undefined` as soon as `signal` aborts, whichever comes first. The abort
 * listener is removed once `work` settles, so a signal that lives as long as the command (its
 * Ctrl-C) keeps nothing of what it was raced with. Racing each step against one long-lived
 * promise instead would add a reaction to it per step, and with it keep every value read.
 *
 * @example
 * const next = await unlessAborted(messages.next(), interrupted.signal);
 * if (next === undefined || next.done === true) break;
 */
export async function unlessAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
): Promise<T | undefined> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return undefined;
  }
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
  });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
