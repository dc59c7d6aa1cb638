#!/usr/bin/env node
import { run } from './program.js';

// Ctrl-C: a command may claim the first one to finish cleanly; otherwise it exits at once.
let interruptHandler: (() => void) | undefined;
process.on('SIGINT', () => {
  const handler = interruptHandler;
  interruptHandler = undefined;
  if (handler) handler();
  else process.exit(130);
});

const code = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: { url: process.env.KPROXY_URL, token: process.env.KPROXY_TOKEN },
  onInterrupt: (handler) => {
    interruptHandler = handler;
    return () => {
      if (interruptHandler === handler) interruptHandler = undefined;
    };
  },
});
// An interrupted read of a terminal or pipe would keep the process alive: leave now.
if (code === 130) process.exit(code);
process.exitCode = code;
