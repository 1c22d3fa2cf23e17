/**
 * A PDU as received over federation: parsed once from its bytes and
 * frozen, so that the checks may take the parts that arrived as Canonical
 * JSON as they arrived instead of encoding them again (Synapse sends
 * Canonical JSON; encoding text back to UTF-8 is the largest cost of
 * checking a text-heavy event). This is the only way into that fast path:
 * the hashes it gives are those of the plain definitions
 * (`matrix-serverlib/hashing`) over the event's own value, because the
 * value cannot change after the parse, and what is taken from the bytes is
 * taken from the parse's own: read before the parse returns, or copied.
 *
 * @module
 */

import { type ParseOptions, parseReceived } from '../canonicaljson/parse.js';
import { isJsonObject, type JsonObject } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { PduEncoding } from '../hashing/encoding.js';
import { assertEventSchema } from '../hashing/schema.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { MAX_PDU_BYTES } from './format.js';

/** Options for {@link parsePdu}: the parser's limits. */
export interface PduParseOptions {
  /** As {@link ParseOptions.maxLength}: the largest input, in bytes. */
  readonly maxLength?: number;
  /** As {@link ParseOptions.maxValues}: the most values the event may hold. */
  readonly maxValues?: number;
}

/**
 * Bodies up to this many bytes are read only while {@link parsePdu} runs:
 * what the checks take from the bytes as received is taken then, and they
 * need not be copied to be owned. Twice the largest event (the rest of a
 * larger body can only be `unsigned` data the checks drop): a body far too
 * large is copied instead, and refused by the format check's bound before
 * any work per member.
 */
const DETACH_MAX = 2 * MAX_PDU_BYTES;

/** Proves a call of the constructor comes from {@link parsePdu}. */
const FROM_PARSE: unique symbol = Symbol('parsePdu');

/** What the checks of this area reach of a received PDU. */
interface Internals {
  /** Its encoding. */
  encoding(pdu: ReceivedPdu): PduEncoding;
  /**
   * Its event ID, for a PDU that passed the format check (which holds the
   * event to the schema, its `unsigned` cut down as Synapse cuts it).
   */
  checkedId(pdu: ReceivedPdu): string;
}
let internals: Internals;

/**
 * A PDU as received, made by {@link parsePdu}: its event, deeply frozen,
 * and (privately) what the checks take from the bytes it was parsed from
 * (which parts of them were Canonical JSON, and the bytes its hashes
 * cover). Check it with `checkIncomingPdu`; its hashes and event ID are
 * those of the plain definitions over {@link ReceivedPdu.event}, computed
 * once.
 */
export class ReceivedPdu {
  /** The room version's rules: it was parsed under them and is checked under them. */
  readonly rules: RoomVersionRules;
  /**
   * The event as parsed, not yet checked. Every object and array in it is
   * frozen: assigning to it throws a `TypeError` (in strict mode code, as
   * every ES module is). To change an event, copy it; the copy is a plain
   * value, hashed by the plain definitions.
   */
  readonly event: JsonObject;
  readonly #encoding: PduEncoding;
  /**
   * Whether the event is known to hold the schema, and its ID once made:
   * the event cannot change, so neither is found twice.
   */
  #wellFormed = false;
  #id: string | undefined;

  static {
    internals = {
      encoding: (pdu) => pdu.#encoding,
      checkedId(pdu) {
        pdu.#id ??= pdu.#makeId();
        return pdu.#id;
      },
    };
  }

  /** @internal Use {@link parsePdu}. */
  constructor(token: typeof FROM_PARSE, event: JsonObject, rules: RoomVersionRules, encoding: PduEncoding) {
    // Only the parse may pair an event with its encoding: the encoding's
    // records are true of that value and those bytes alone.
    if (token !== FROM_PARSE) throw new TypeError('A ReceivedPdu is made by parsePdu');
    this.event = event;
    this.rules = rules;
    this.#encoding = encoding;
  }

  /** Throws unless the event holds its version's schema (found once). */
  #assertWellFormed(): void {
    if (this.#wellFormed) return;
    assertEventSchema(this.event, this.rules);
    this.#wellFormed = true;
  }

  /**
   * The event ID, as `eventId` (`matrix-serverlib/hashing`) gives it.
   *
   * @throws {@link InvalidInputError} `M_BAD_JSON` if the event lacks the
   *   keys and types every event of the version has, or cannot be encoded
   *   as Canonical JSON.
   */
  eventId(): string {
    this.#assertWellFormed();
    this.#id ??= this.#makeId();
    return this.#id;
  }

  #makeId(): string {
    switch (this.rules.eventFormat.eventIdFormat) {
      case 'opaque':
        // The schema requires a string event_id in these versions.
        return this.event.event_id as string;
      case 'base64':
        return `$${this.#encoding.referenceHashBase64(false)}`;
      case 'url-safe-base64':
        return `$${this.#encoding.referenceHashBase64(true)}`;
    }
  }

  /**
   * The content hash, as `contentHash` gives it: a new array at each call.
   *
   * @throws {@link InvalidInputError} `M_BAD_JSON` if the event cannot be
   *   encoded as Canonical JSON under the version's rules.
   */
  contentHash(): Uint8Array {
    return this.#encoding.contentHash();
  }

  /**
   * The reference hash, as `referenceHash` gives it: a new array at each
   * call.
   *
   * @throws {@link InvalidInputError} as {@link ReceivedPdu.eventId}.
   */
  referenceHash(): Uint8Array {
    this.#assertWellFormed();
    return new Uint8Array(this.#encoding.referenceHash());
  }
}

/** The encoding of `pdu` (internal: for the checks of a received PDU). */
export function receivedEncoding(pdu: ReceivedPdu): PduEncoding {
  return internals.encoding(pdu);
}

/**
 * The event ID of `pdu`, which passed the format check (internal: the
 * schema is not walked again).
 */
export function checkedEventId(pdu: ReceivedPdu): string {
  return internals.checkedId(pdu);
}

/**
 * Parses the bytes of a PDU received over federation, once, into a
 * {@link ReceivedPdu}: the entry to the checks that take the parts of an
 * event received as Canonical JSON as they arrived. The event is frozen,
 * and changing the bytes afterwards changes nothing: they are read before
 * this returns (what the hashes take from them kept), or, beyond twice the
 * largest event, copied.
 *
 * @param bytes - the PDU's JSON, as received (UTF-8).
 * @param rules - the room version's rules: its number rules apply.
 * @param options - the parser's limits (defaults as `parseJson`'s).
 * @returns the received PDU, not yet checked (see `checkIncomingPdu`).
 * @throws {@link InvalidInputError} as `parseJson` does (`M_NOT_JSON`,
 *   `M_BAD_JSON`, `M_TOO_LARGE`), and `M_BAD_JSON` if the JSON is not an
 *   object.
 */
export function parsePdu(bytes: Uint8Array, rules: RoomVersionRules, options: PduParseOptions = {}): ReceivedPdu {
  const limits: ParseOptions = { numbers: rules.json.numbers };
  if (options.maxLength !== undefined) limits.maxLength = options.maxLength;
  if (options.maxValues !== undefined) limits.maxValues = options.maxValues;
  // Up to DETACH_MAX the bytes are read during this call only; a larger
  // body is copied (at most the parser's limit), and read when checked.
  const detach = bytes.length <= DETACH_MAX;
  const { value, spans } = parseReceived(detach ? bytes : new Uint8Array(bytes), limits);
  if (!isJsonObject(value)) {
    spans.release();
    throw new InvalidInputError('M_BAD_JSON', 'A PDU must be a JSON object');
  }
  const encoding = new PduEncoding(value, rules, spans);
  if (detach) encoding.detach();
  return new ReceivedPdu(FROM_PARSE, value, rules, encoding);
}
