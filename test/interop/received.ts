/**
 * Answers the event ops of a request line through the received-PDU path
 * (`parsePdu` of the event's bytes exactly as the line writes them, then
 * the checks that take the parts received as Canonical JSON as received),
 * so that the oracle's answers hold that path too, and not only the plain
 * definitions the conformance runner uses.
 */
import type { Operation } from '../../conformance/src/ops.js';
import { operations } from '../../conformance/src/ops.js';
import { keysField, roomVersionField } from '../../conformance/src/request.js';
import { answerLine } from '../../conformance/src/runner.js';
import { InvalidInputError, type JsonObject } from '../../src/canonicaljson/index.js';
import { checkFormatFor } from '../../src/events/format.js';
import { parsePdu, type ReceivedPdu, receivedEncoding } from '../../src/events/received.js';
import { checkEventSignaturesOf } from '../../src/events/signatures.js';
import { encodeBase64 } from '../../src/signing/index.js';

/**
 * Where the value of the last top-level member `name` of the JSON object
 * `text` lies (the last, as duplicate keys resolve), or undefined. The
 * text is a request line our parser took, so a scan of strings and
 * brackets delimits its values.
 */
export function memberText(text: string, name: string): string | undefined {
  let pos = 0;
  const ws = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos] as string)) pos++;
  };
  const string = () => {
    const start = pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    pos++;
    return text.slice(start, pos);
  };
  const value = () => {
    const start = pos;
    let depth = 0;
    while (pos < text.length) {
      const c = text[pos] as string;
      if (c === '"') {
        string();
        if (depth === 0) break;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        // The object's own closing brace ends a scalar member.
        if (depth === 0) break;
        depth--;
        if (depth === 0) {
          pos++;
          break;
        }
      } else if (c === ',' && depth === 0) break;
      pos++;
    }
    return text.slice(start, pos).trimEnd();
  };
  let found: string | undefined;
  ws();
  if (text[pos] !== '{') return undefined;
  pos++;
  ws();
  while (text[pos] === '"') {
    const key = JSON.parse(string()) as string;
    ws();
    pos++; // :
    ws();
    const v = value();
    if (key === name) found = v;
    ws();
    if (text[pos] !== ',') break;
    pos++;
    ws();
  }
  return found;
}

/** The line being answered, whose raw event the received ops parse. */
let current = '';

/**
 * An op answered through the received path: the plain op first (its
 * checks of the request, and its errors, are the runner's), then, if the
 * version's parser takes the event's bytes, `answer` of the received PDU.
 * An event the version's parser refuses (numbers or surrogates the runner's
 * lossless reading let through to the op) keeps the plain answer.
 */
function received(name: string, answer: (pdu: ReceivedPdu, req: JsonObject) => JsonObject): [string, Operation] {
  const plain = operations.get(name) as Operation;
  return [
    name,
    (req) => {
      const plainAnswer = plain(req);
      const raw = memberText(current, 'event');
      if (raw === undefined) return plainAnswer;
      let pdu: ReceivedPdu;
      try {
        pdu = parsePdu(Buffer.from(raw, 'utf8'), roomVersionField(req));
      } catch (e) {
        if (e instanceof InvalidInputError) return plainAnswer;
        throw e;
      }
      return answer(pdu, req);
    },
  ];
}

/** The event ops, answered through the received path. */
const receivedOperations: ReadonlyMap<string, Operation> = new Map([
  received('content_hash', (pdu) => ({ hash: encodeBase64(pdu.contentHash()) })),
  received('reference_hash', (pdu) => ({ hash: encodeBase64(pdu.referenceHash()) })),
  received('event_id', (pdu) => ({ event_id: pdu.eventId() })),
  received('check_pdu_format', (pdu) => {
    const check = checkFormatFor(pdu.event, pdu.rules, receivedEncoding(pdu), {});
    return typeof check === 'string' ? { valid: false, reason: check } : { valid: true, reason: '' };
  }),
  received('verify_event', (pdu, req) => {
    const check = checkEventSignaturesOf(pdu.event, pdu.rules, keysField(req), receivedEncoding(pdu));
    return check.result === 'valid' ? { result: 'valid', reason: '' } : { result: check.result, reason: check.reason };
  }),
]);

const allOperations: ReadonlyMap<string, Operation> = new Map([...operations, ...receivedOperations]);

/**
 * `line` answered as the runner answers it, its event op through the
 * received path; undefined if its op is not an event op (the runner's
 * answer is the only one).
 */
export function answerReceived(line: string): string | undefined {
  let op: unknown;
  try {
    op = JSON.parse(memberText(line, 'op') ?? 'null');
  } catch {
    return undefined;
  }
  if (typeof op !== 'string' || !receivedOperations.has(op)) return undefined;
  current = line;
  try {
    return answerLine(line, allOperations);
  } finally {
    current = '';
  }
}
