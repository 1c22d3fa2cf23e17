/**
 * Candidates of the incoming-PDU benchmark, measured interleaved with bare
 * verification in this worker's own isolate (see events.bench.ts).
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { JsonObject } from 'matrix-serverlib/canonicaljson';
import { setVerifyBackend } from 'matrix-serverlib/signing';
import { PIPELINES, pipelines } from './events.bench.ts';
import { measure } from './harness.ts';

const { proto, candidates } = workerData as { proto: JsonObject; candidates: string[] };
// The pipelines are measured on node:crypto, as bare verification is; the
// candidates that compare the backends choose theirs at each op.
setVerifyBackend('node');
const { fns } = pipelines(proto);
const baseline = PIPELINES[0] as string;
parentPort?.postMessage(measure([baseline, ...candidates].map((name) => ({ name, fn: fns[name] as () => unknown }))));
