/**
 * One pipeline of the incoming-PDU benchmark, measured interleaved with
 * bare verification in this worker's own isolate (see events.bench.ts).
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { JsonObject } from 'matrix-serverlib/canonicaljson';
import { PIPELINES, pipelines } from './events.bench.ts';
import { measure } from './harness.ts';

const { proto, pipeline } = workerData as { proto: JsonObject; pipeline: string };
const { fns } = pipelines(proto);
const baseline = PIPELINES[0] as string;
const [base, candidate] = measure([
  { name: baseline, fn: fns[baseline] as () => unknown },
  { name: pipeline, fn: fns[pipeline] as () => unknown },
]);
parentPort?.postMessage([base, candidate]);
