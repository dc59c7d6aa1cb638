import { addAbortListener } from 'node:events';

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
  // An abort already made wins even over work that has settled: the caller stops at once.
  if (signal.aborted) {
    work.catch(() => undefined);
    return undefined;
  }
  let listening!: Disposable;
  const aborted = new Promise<undefined>((resolve) => {
    listening = addAbortListener(signal, () => resolve(undefined));
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    listening[Symbol.dispose]();
  }
}
