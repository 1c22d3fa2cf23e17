#!/usr/bin/env node
/**
 * `npm run --silent conformance < cases.jsonl`: reads request lines from
 * standard input and writes one answer line per request, in order, as soon
 * as each is computed (CONFORMANCE.md). Exits 0 at end of input.
 *
 * @module
 */

import { createInterface } from 'node:readline';
import { answerLine } from './runner.js';

const input = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
for await (const line of input) {
  if (!process.stdout.write(`${answerLine(line)}\n`)) {
    await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}
