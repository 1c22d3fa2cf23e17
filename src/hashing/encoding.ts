/**
 * The byte strings an incoming PDU is checked against, built from one
 * encoding of each of its members.
 *
 * Receiving an event needs the Canonical JSON of several variants of it: the
 * whole event (size limit), the event without `unsigned`, `signatures` and
 * `hashes` (content hash), the redacted event without `signatures` and
 * `unsigned` (signatures, and the reference hash: the very same bytes).
 * Canonical JSON of an object is its members' encodings in key order, and
 * the order of a subset of keys is the same, so each member is encoded once
 * and the variants are assembled from the pieces.
 *
 * @module
 */

import { hash } from 'node:crypto';
import { encodeCanonicalJson } from '../canonicaljson/encode.js';
import { sortedKeys } from '../canonicaljson/keyorder.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { redactEvent } from './redact.js';

/**
 * Top-level keys left out of the content hash. The spec names `unsigned`,
 * `signatures` and `hashes`; Synapse also drops `age_ts`, `outlier` and
 * `destinations` (old internal fields), and events whose hash Synapse accepts
 * must hash the same here, or a room splits over them. None of the three
 * survives redaction, so the signatures and event ID never cover them.
 */
const NOT_IN_CONTENT_HASH = new Set(['unsigned', 'signatures', 'hashes', 'age_ts', 'outlier', 'destinations']);

/** Keys a signature (and the reference hash) never covers. */
const NOT_SIGNED = new Set(['signatures', 'unsigned']);

/** SHA-256 of a string's UTF-8 bytes. */
export function sha256(text: string): Buffer {
  return hash('sha256', Buffer.from(text, 'utf8'), 'buffer');
}

/**
 * Canonical JSON pieces of one event, encoded on first use and shared by
 * the variants built from them. The event must not change while this is in
 * use (the pieces would describe the old event).
 */
export class PduEncoding {
  /** The event encoded. */
  readonly event: JsonObject;
  /** Its room version's rules. */
  readonly rules: RoomVersionRules;
  private readonly keys: string[];
  private readonly texts = new Map<string, string>();
  private readonly contentTexts = new Map<string, string>();
  private signing: string | undefined;
  private signingBuffer: Buffer | undefined;
  private redactedEvent: JsonObject | undefined;

  /**
   * @param event - the event; not modified.
   * @param rules - its room version's rules (they decide the number rules).
   */
  constructor(event: JsonObject, rules: RoomVersionRules) {
    this.event = event;
    this.rules = rules;
    this.keys = sortedKeys(event);
  }

  /** Canonical JSON of any value under the version's number rules. */
  encode(value: unknown): string {
    return encodeCanonicalJson(value, { numbers: this.rules.json.numbers });
  }

  /** The encoding of top-level member `key`. */
  private member(key: string): string {
    let text = this.texts.get(key);
    if (text === undefined) {
      text = this.encode(this.event[key]);
      this.texts.set(key, text);
    }
    return text;
  }

  /** The encoding of `content[key]`, when `content` is an object. */
  private contentMember(key: string): string {
    let text = this.contentTexts.get(key);
    if (text === undefined) {
      text = this.encode((this.event.content as JsonObject)[key]);
      this.contentTexts.set(key, text);
    }
    return text;
  }

  /**
   * Assembles an object from sorted keys, taking each member's encoding from
   * `piece`.
   */
  private assemble(keys: readonly string[], piece: (key: string) => string): string {
    let out = '{';
    for (const key of keys) {
      if (out.length > 1) out += ',';
      out += `${this.encode(key)}:${piece(key)}`;
    }
    return `${out}}`;
  }

  /**
   * Canonical JSON of the event as Synapse stores (and measures) it:
   * `signatures` always present, `unsigned` replaced by `unsigned`.
   *
   * @param unsigned - the `unsigned` member to write.
   */
  storedText(unsigned: JsonObject): string {
    const keys = this.keys.includes('signatures') ? [...this.keys] : [...this.keys, 'signatures'];
    if (!keys.includes('unsigned')) keys.push('unsigned');
    const order: Record<string, 0> = {};
    for (const k of keys) order[k] = 0;
    return this.assemble(sortedKeys(order), (k) => {
      if (k === 'unsigned') return this.encode(unsigned);
      if (k === 'signatures' && this.event.signatures === undefined) return '{}';
      return this.member(k);
    });
  }

  /** The bytes the content hash covers. */
  contentHashText(): string {
    return this.assemble(
      this.keys.filter((k) => !NOT_IN_CONTENT_HASH.has(k)),
      (k) => this.member(k),
    );
  }

  /** SHA-256 of {@link contentHashText}. */
  contentHash(): Buffer {
    return sha256(this.contentHashText());
  }

  /** The redacted event (members shared with the event, not copied). */
  redacted(): JsonObject {
    this.redactedEvent ??= redactEvent(this.event, this.rules);
    return this.redactedEvent;
  }

  /**
   * Canonical JSON of the redacted event without `signatures` and
   * `unsigned`: what signatures cover, and what the reference hash hashes.
   */
  signingText(): string {
    if (this.signing !== undefined) return this.signing;
    const redacted = this.redacted();
    const keys = sortedKeys(redacted).filter((k) => !NOT_SIGNED.has(k));
    this.signing = this.assemble(keys, (k) => {
      const value = redacted[k];
      if (k === 'content') return this.redactedContent(value as JsonObject);
      return value === this.event[k] ? this.member(k) : this.encode(value);
    });
    return this.signing;
  }

  private redactedContent(content: JsonObject): string {
    const original = this.event.content;
    if (!isJsonObject(original)) return this.encode(content);
    if (content === original) return this.member('content');
    const keys = sortedKeys(content);
    return this.assemble(keys, (k) =>
      content[k] === original[k] ? this.contentMember(k) : this.encode(content[k] as JsonValue),
    );
  }

  /** {@link signingText} as UTF-8 bytes. */
  signingBytes(): Buffer {
    this.signingBuffer ??= Buffer.from(this.signingText(), 'utf8');
    return this.signingBuffer;
  }

  /** SHA-256 of {@link signingBytes}: the reference hash. */
  referenceHash(): Buffer {
    return hash('sha256', this.signingBytes(), 'buffer');
  }
}
