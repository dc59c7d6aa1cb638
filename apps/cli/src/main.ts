#!/usr/bin/env node
import { run } from './program.js';

const code = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: { url: process.env.KPROXY_URL, token: process.env.KPROXY_TOKEN },
});
process.exitCode = code;
