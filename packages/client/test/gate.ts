// An undici dispatcher that holds produce requests until the test lets them go, so a test can
// play a slow proxy without timing: what is held has left the client but has no answer yet.
import { Agent, type Dispatcher } from 'undici';

export interface Gate {
  dispatcher: Dispatcher;
  /** Produce requests held right now. */
  readonly held: number;
  /** Resolves once at least `count` produce requests are held. */
  waitForHeld(count?: number): Promise<void>;
  /** Lets the oldest held request go on to the server. */
  releaseOne(): void;
  /** Lets every held request go on. */
  releaseAll(): void;
  /** Lets everything go and closes the connections. */
  close(): Promise<void>;
}

/** `onHold` runs each time a request is held: the moment the client holds the most. */
export function openGate(onHold: () => void = () => undefined): Gate {
  const agent = new Agent();
  const held: (() => void)[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  const notify = (): void => {
    const ready = waiters.filter((w) => held.length >= w.count);
    waiters = waiters.filter((w) => held.length < w.count);
    for (const w of ready) w.resolve();
  };
  const dispatcher = agent.compose((dispatch) => (opts, handler) => {
    const produce = opts.method === 'POST' && !opts.path.startsWith('/topic/');
    if (!produce) return dispatch(opts, handler);
    held.push(() => void dispatch(opts, handler));
    onHold();
    notify();
    return true;
  });
  const gate: Gate = {
    dispatcher,
    get held() {
      return held.length;
    },
    waitForHeld: (count = 1) =>
      new Promise<void>((resolve) => {
        waiters.push({ count, resolve });
        notify();
      }),
    releaseOne: () => held.shift()?.(),
    releaseAll: () => {
      for (const go of held.splice(0)) go();
    },
    close: async () => {
      gate.releaseAll();
      await agent.close();
    },
  };
  return gate;
}
