#!/usr/bin/env node
/**
 * `npm run --silent conformance < cases.jsonl`: reads request lines from
 * standard input and writes one answer line per request, in order, as soon
 * as each is computed (PROTOCOL.md). Exits 0 at end of input, and, with
 * nothing written, when standard output is closed (`… | head -1`).
 *
 * @module
 */

import { answerBytes, splitLines } from './runner.js';

// Node ignores SIGPIPE, so a reader that has gone away (head -1 has all it
// wants) shows up as an EPIPE error on the next write; unhandled it would
// end the process with a stack trace and status 1. No one is left to read
// the answers: stop, as a Unix filter does. Any other failure to write is
// one line on stderr and status 1.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(`conformance: cannot write answers: ${e.message}\n`);
  process.exit(e.code === 'EPIPE' ? 0 : 1);
});

try {
  for await (const line of splitLines(process.stdin)) {
    if (!process.stdout.write(`${answerBytes(line)}\n`)) {
      await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
    }
  }
} catch (e) {
  // Input that cannot be read (EIO, a closed descriptor): the answers so far
  // stand; say why no more follow, on one line, without a stack trace.
  process.stderr.write(`conformance: cannot read requests: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
