/**
 * The byte strings a received PDU is checked against, built from one
 * encoding of each of its members: the fast path behind `parsePdu`
 * (`matrix-serverlib/events`), which owns the event (frozen) and its bytes,
 * and which tests hold equal to the plain definitions of `hashes.ts`.
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

import { createHash, type Hash, hash } from 'node:crypto';
import { type EncodeOptions, encodeWithSpans } from '../canonicaljson/encode.js';
import { sortedKeys } from '../canonicaljson/keyorder.js';
import { type CanonicalMembers, type CanonicalSpans, canonicalMembers } from '../canonicaljson/spans.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';
import type { RoomVersionRules } from '../roomversions/rules.js';
import { decodeBase64 } from '../signing/base64.js';
import { NOT_IN_CONTENT_HASH } from './hashes.js';
import { redactEvent } from './redact.js';

/** Keys a signature (and the reference hash) never covers. */
const NOT_SIGNED = new Set(['signatures', 'unsigned']);

/**
 * When the content-hash bytes and the signed bytes start with at least this
 * many bytes in common (a large content that survives redaction whole, such
 * as a power levels event listing many users), the common part is hashed
 * once for both. Below it, copying the hash state costs more than hashing
 * again.
 */
const SHARED_PREFIX_MIN = 4096;

/**
 * A part of an encoding: text, or (for a part received as Canonical JSON)
 * the received bytes themselves.
 */
type Piece = string | Uint8Array;

/**
 * Text pieces shorter than this are measured and written character by
 * character (most are a bracket, a comma or a key); longer ones are
 * converted by Node once.
 */
const LARGE_PIECE = 1024;

/** The UTF-8 length of a well-formed short string. */
function shortUtf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    // A surrogate pair is two units and four bytes; any other unit up to
    // U+07FF two bytes, beyond three.
    if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += c < 0x800 ? 1 : 2;
  }
  return n;
}

/** Writes a short string's UTF-8 at `at`; returns the position after it. */
function writeShort(out: Buffer, s: string, at: number): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return at + i + out.write(s.slice(i), at + i, 'utf8');
    out[at + i] = c;
  }
  return at + s.length;
}

/**
 * A buffer reused for bytes that are hashed and dropped at once (the content
 * hash's): allocating and filling a fresh one cost a quarter as much as
 * hashing it. Never larger than {@link MAX_SCRATCH}.
 */
let scratch = Buffer.allocUnsafe(0);
const MAX_SCRATCH = 1 << 20;

/**
 * A buffer of `total` bytes: a new one, or with `transient`, possibly a view
 * of the scratch buffer, valid only until the next call.
 */
function allocate(total: number, transient: boolean): Buffer {
  if (!transient || total > MAX_SCRATCH) return Buffer.allocUnsafe(total);
  if (scratch.length < total) scratch = Buffer.allocUnsafe(Math.max(total, 2 * scratch.length, 4096));
  return scratch.subarray(0, total);
}

/**
 * The UTF-8 bytes of the concatenated pieces, in one buffer: a new one, or
 * with `transient`, possibly a view of the scratch buffer, valid only until
 * the next call.
 */
function bytesOf(pieces: readonly Piece[], transient = false): Buffer {
  const only = pieces[0];
  if (pieces.length === 1 && only instanceof Buffer) return only;
  let parts = pieces;
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Piece;
    if (typeof part !== 'string') total += part.length;
    else if (part.length < LARGE_PIECE) total += shortUtf8Length(part);
    else {
      // A large text is converted once, not measured and then written.
      if (parts === pieces) parts = pieces.slice();
      const converted = Buffer.from(part, 'utf8');
      (parts as Piece[])[i] = converted;
      total += converted.length;
    }
  }
  const out = allocate(total, transient);
  let at = 0;
  for (const part of parts) {
    if (typeof part === 'string') at = writeShort(out, part, at);
    else {
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}

/** The UTF-8 length of a piece. */
function byteLengthOf(piece: Piece): number {
  return typeof piece === 'string' ? Buffer.byteLength(piece, 'utf8') : piece.length;
}

/**
 * `"key":` for object keys seen before: events use a few dozen keys, and
 * encoding one costs more than finding it. Bounded, so that arbitrary keys
 * cannot grow it without limit.
 */
const KEY_PREFIXES = new Map<string, string>();
const MAX_KEY_PREFIXES = 4096;

/** The order of an event's members, and where they lie in its received bytes. */
interface Layout {
  /** The keys in code point order. */
  readonly keys: readonly string[];
  /** The members in the received bytes, if the event arrived as Canonical JSON. */
  readonly received: CanonicalMembers | undefined;
}

/**
 * Canonical JSON pieces of one event, encoded on first use and shared by
 * the variants built from them. The event must never change while this
 * lives (the pieces would describe the old event), nor the bytes the spans
 * describe: only a received PDU, which owns both, makes one.
 */
export class PduEncoding {
  /** The event encoded. */
  readonly event: JsonObject;
  /** Its room version's rules. */
  readonly rules: RoomVersionRules;
  private readonly texts = new Map<string, Piece>();
  private readonly contentTexts = new Map<string, Piece>();
  private signingBuffer: Buffer | undefined;
  /** The length of the bytes the content hash covers, and their hash in Base64. */
  private content: { readonly length: number; readonly base64: string } | undefined;
  private redactedEvent: JsonObject | undefined;
  /**
   * SHA-256 over the leading bytes the signed bytes share with the
   * content-hash bytes, when those were hashed once for both, and how many.
   */
  private referencePrefix: { readonly state: Hash; readonly length: number } | undefined;
  /** The reference hash, once computed from {@link referencePrefix}. */
  private reference: Buffer | undefined;
  private readonly options: EncodeOptions;
  /**
   * The record made when the event was parsed: the parts of the event it
   * holds are taken as received.
   */
  readonly canonicalSpans: CanonicalSpans;
  /**
   * The event's keys in code point order and, when the whole event arrived
   * as Canonical JSON, where its members lie in its received bytes (every
   * variant is then slices of those bytes, with at most the redacted
   * content written anew). Found on first use, so that making an encoding
   * does no work per member: the format check refuses a body far too large
   * before any.
   */
  private layout: Layout | undefined;

  /**
   * @param event - the event, frozen; not modified.
   * @param rules - its room version's rules (they decide the number rules).
   * @param canonicalSpans - the record made when the event was parsed:
   *   parts received as Canonical JSON are taken as received instead of
   *   being encoded again.
   */
  constructor(event: JsonObject, rules: RoomVersionRules, canonicalSpans: CanonicalSpans) {
    this.event = event;
    this.rules = rules;
    this.canonicalSpans = canonicalSpans;
    this.options = { numbers: rules.json.numbers };
  }

  /** The event's keys in code point order. */
  private get keys(): readonly string[] {
    return this.members().keys;
  }

  /** Where the event's members lie in its received bytes, if it arrived as Canonical JSON. */
  private get received(): CanonicalMembers | undefined {
    return this.members().received;
  }

  private members(): Layout {
    if (this.layout === undefined) {
      const received = canonicalMembers(this.canonicalSpans, this.event);
      this.layout = { keys: received?.keys ?? sortedKeys(this.event), received };
    }
    return this.layout;
  }

  /**
   * Takes from the received bytes all that the checks take from them (the
   * content hash and the length it covers, the signed bytes, kept), then
   * lets go of them ({@link CanonicalSpans.release}): afterwards nothing
   * here reads a byte of them, so that they need not be copied to be
   * owned. What is measured later (the stored size) encodes the few small
   * members it needs again.
   */
  detach(): void {
    // What cannot be made (no redaction without a string type and a
    // content) is made again, and fails again, when asked for: the checks
    // refuse such an event before they ask.
    try {
      this.contentDigest();
      this.signingBytes();
    } catch {}
    this.layout = { keys: this.keys, received: undefined };
    this.canonicalSpans.release();
  }

  /**
   * Canonical JSON of any value under the version's number rules, parts
   * recorded in the spans written as received.
   */
  encode(value: unknown): string {
    return encodeWithSpans(value, this.options, this.canonicalSpans);
  }

  /** A value's encoding: its received bytes if they are canonical, else encoded. */
  private piece(value: JsonValue | undefined): Piece {
    if (typeof value === 'object' && value !== null) {
      const bytes = this.canonicalSpans.bytes(value);
      if (bytes !== undefined) return bytes;
    }
    return this.encode(value);
  }

  /** The encoding of top-level member `key`. */
  private member(key: string): Piece {
    let text = this.texts.get(key);
    if (text === undefined) {
      text = this.piece(this.event[key]);
      this.texts.set(key, text);
    }
    return text;
  }

  /** The encoding of `content[key]`, when `content` is an object. */
  private contentMember(key: string): Piece {
    let text = this.contentTexts.get(key);
    if (text === undefined) {
      text = this.piece((this.event.content as JsonObject)[key]);
      this.contentTexts.set(key, text);
    }
    return text;
  }

  /** `"key":`, the key as Canonical JSON and a colon. */
  private keyPrefix(key: string): string {
    let prefix = KEY_PREFIXES.get(key);
    if (prefix === undefined) {
      prefix = `${this.encode(key)}:`;
      if (KEY_PREFIXES.size < MAX_KEY_PREFIXES) KEY_PREFIXES.set(key, prefix);
    }
    return prefix;
  }

  /**
   * The pieces of an object's Canonical JSON, from sorted keys, taking each
   * member's encoding from `piece`. The members are not concatenated: a
   * large one is hashed or measured as it is, never copied into a bigger
   * string.
   */
  private pieces(keys: readonly string[], piece: (key: string) => Piece | Piece[]): Piece[] {
    const out: Piece[] = [];
    let sep = '{';
    for (const key of keys) {
      out.push(sep === '{' ? `{${this.keyPrefix(key)}` : `,${this.keyPrefix(key)}`);
      const p = piece(key);
      if (Array.isArray(p)) out.push(...p);
      else out.push(p);
      sep = ',';
    }
    out.push(sep === '{' ? '{}' : '}');
    return out;
  }
  /**
   * The bytes of an object made of some of the event's members, from the
   * received bytes: `choose` says for each key whether its member is kept
   * as received (`true`), left out (`false`), or written with another value
   * (its pieces). Neighbouring kept members are copied as one slice.
   */
  private assemble(
    received: CanonicalMembers,
    choose: (key: string) => boolean | Piece | Piece[],
    transient = false,
  ): Buffer {
    const { bytes, starts, ends } = received;
    const keys = this.keys;
    // First what becomes of each member and how long the result is, then
    // one copy per run: no list of pieces, no views of the input.
    const choices: (boolean | Buffer)[] = new Array(keys.length);
    let total = 1;
    let members = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const choice = choose(key);
      if (choice === false) {
        choices[i] = false;
        continue;
      }
      if (choice === true) {
        choices[i] = true;
        total += (ends[i] as number) - (starts[i] as number);
      } else {
        const written = bytesOf(([this.keyPrefix(key)] as Piece[]).concat(choice));
        choices[i] = written;
        total += written.length;
      }
      members++;
    }
    // N members take N - 1 commas and two brackets; none, "{}".
    total += Math.max(members, 1);
    const out = allocate(total, transient);
    out[0] = 0x7b; /* { */
    let at = 1;
    for (let i = 0; i < keys.length; i++) {
      const choice = choices[i] as boolean | Buffer;
      if (choice === false) continue;
      if (at > 1) out[at++] = 0x2c; /* , */
      if (choice !== true) {
        out.set(choice, at);
        at += choice.length;
        continue;
      }
      const from = starts[i] as number;
      while (choices[i + 1] === true) i++;
      const length = (ends[i] as number) - from;
      out.set(new Uint8Array(bytes.buffer, bytes.byteOffset + from, length), at);
      at += length;
    }
    out[at] = 0x7d; /* } */
    return out;
  }

  /** The UTF-8 length of `"key":value` for top-level member `key`. */
  private memberLength(key: string): number {
    const received = this.received;
    if (received !== undefined) {
      const i = this.keys.indexOf(key);
      return (received.ends[i] as number) - (received.starts[i] as number);
    }
    return byteLengthOf(this.keyPrefix(key)) + byteLengthOf(this.member(key));
  }

  /**
   * The size in bytes of the Canonical JSON of the event as Synapse stores
   * (and measures) it: `signatures` always present, `unsigned` replaced by
   * `unsigned`.
   *
   * @param unsigned - the `unsigned` member to write.
   */
  storedSize(unsigned: JsonObject): number {
    // The content hash covers all members but a few: measure those few on
    // top of it rather than every member again. For N members the text is
    // two brackets, the members and N - 1 commas.
    let covered = 0;
    let stored = 0;
    let size = this.contentDigest().length;
    for (const k of this.keys) {
      stored++;
      if (!NOT_IN_CONTENT_HASH.has(k)) covered++;
      else if (k !== 'unsigned') size += this.memberLength(k);
    }
    if (this.event.signatures === undefined) {
      stored++;
      size += byteLengthOf(this.keyPrefix('signatures')) + 2;
    }
    if (this.event.unsigned === undefined) stored++;
    size += byteLengthOf(this.keyPrefix('unsigned')) + byteLengthOf(this.encode(unsigned));
    return size - Math.max(covered - 1, 0) + (stored - 1);
  }

  /**
   * The bytes the content hash covers, measured and hashed at once (they
   * may lie in the scratch buffer, so they are not kept).
   */
  private contentDigest(): { readonly length: number; readonly base64: string } {
    if (this.content !== undefined) return this.content;
    const covered = (k: string) => !NOT_IN_CONTENT_HASH.has(k);
    const received = this.received;
    const bytes =
      received !== undefined
        ? this.assemble(received, covered, true)
        : bytesOf(
            this.pieces(this.keys.filter(covered), (k) => this.member(k)),
            true,
          );
    const shared = received === undefined ? 0 : this.sharedLength(received);
    if (shared >= SHARED_PREFIX_MIN) {
      const state = createHash('sha256').update(bytes.subarray(0, shared));
      this.referencePrefix = { state: state.copy(), length: shared };
      this.content = { length: bytes.length, base64: state.update(bytes.subarray(shared)).digest('base64') };
    } else {
      // A string digest: asking Node for a Buffer costs as much again.
      this.content = { length: bytes.length, base64: hash('sha256', bytes, 'base64') };
    }
    return this.content;
  }

  /**
   * How many bytes the content-hash bytes and the signed bytes share at
   * their start: both are the received bytes up to the end of the last of
   * the leading members that both hold as received (the signed bytes hold
   * a subset of the event's members, in the same order).
   */
  private sharedLength(received: CanonicalMembers): number {
    let redacted: JsonObject;
    try {
      redacted = this.redacted();
    } catch {
      // No redaction without a string type and a content: no signed bytes
      // either, but the content hash is still defined.
      return 0;
    }
    const keys = this.keys;
    let end = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      // The keys never signed are among those the content hash leaves out.
      if (NOT_IN_CONTENT_HASH.has(key) || !Object.hasOwn(redacted, key)) break;
      if (!this.signedAsReceived(key, redacted[key] as JsonValue)) break;
      end = received.ends[i] as number;
    }
    return end;
  }

  /** SHA-256 of the bytes the content hash covers: a new array at each call. */
  contentHash(): Uint8Array {
    return Buffer.from(this.contentDigest().base64, 'base64');
  }

  /**
   * Whether `claimed` (the event's `hashes.sha256`) is the content hash.
   *
   * @param claimed - Base64 as the sender wrote it: unpadded standard Base64
   *   is compared as text, anything else decoded as Synapse decodes it.
   * @throws {@link InvalidInputError} `M_INVALID_PARAM` if `claimed` cannot
   *   be decoded.
   */
  contentHashIs(claimed: string): boolean {
    const base64 = this.contentDigest().base64;
    // 32 bytes are 43 characters and one '=' of padding.
    if (claimed.length === 43 && base64.startsWith(claimed)) return true;
    return Buffer.from(this.contentDigest().base64, 'base64').equals(decodeBase64(claimed));
  }

  /**
   * The redacted event (members shared with the event, not copied). Not
   * changed here; whoever gives it out freezes it first.
   */
  redacted(): JsonObject {
    this.redactedEvent ??= redactEvent(this.event, this.rules);
    return this.redactedEvent;
  }

  /**
   * The pieces of the Canonical JSON of the redacted event without
   * `signatures` and `unsigned`: what signatures cover, and what the
   * reference hash hashes.
   */
  private signingPieces(): Piece[] {
    const redacted = this.redacted();
    const keys = sortedKeys(redacted).filter((k) => !NOT_SIGNED.has(k));
    return this.pieces(keys, (k) => {
      const value = redacted[k];
      if (k === 'content') return this.redactedContent(value as JsonObject);
      return value === this.event[k] ? this.member(k) : this.encode(value);
    });
  }

  /**
   * {@link signingBytes} from the received bytes, if the event arrived as
   * Canonical JSON and redaction only removed members (it never adds any).
   */
  private receivedSigningBytes(): Buffer | undefined {
    const received = this.received;
    if (received === undefined) return undefined;
    const redacted = this.redacted();
    let signed = 0;
    for (const k of Object.keys(redacted)) if (!NOT_SIGNED.has(k)) signed++;
    let chosen = 0;
    const bytes = this.assemble(received, (k) => {
      const choice = this.signedChoice(k);
      if (choice !== false) chosen++;
      return choice;
    });
    return chosen === signed ? bytes : undefined;
  }

  /**
   * What the signed bytes hold of top-level member `key`, as
   * {@link assemble} takes it: the member as received (`true`), nothing
   * (`false`), or its redacted value written anew.
   */
  private signedChoice(key: string): boolean | Piece | Piece[] {
    const redacted = this.redacted();
    // Own keys only: an event may have a `__proto__` member.
    if (!Object.hasOwn(redacted, key) || NOT_SIGNED.has(key)) return false;
    const value = redacted[key] as JsonValue;
    if (this.signedAsReceived(key, value)) return true;
    return key === 'content' ? this.redactedContent(value as JsonObject) : this.encode(value);
  }

  /**
   * Whether `value`, the redacted event's member `key`, is signed as the
   * event's member was received. Redaction makes a new content object even
   * when it keeps every key.
   */
  private signedAsReceived(key: string, value: JsonValue): boolean {
    return value === this.event[key] || (key === 'content' && keepsEveryMember(this.event.content, value));
  }

  private redactedContent(content: JsonObject): Piece | Piece[] {
    const original = this.event.content;
    if (!isJsonObject(original)) return this.encode(content);
    if (content === original) return this.member('content');
    const keys = sortedKeys(content);
    return this.pieces(keys, (k) =>
      content[k] === original[k] ? this.contentMember(k) : this.encode(content[k] as JsonValue),
    );
  }

  /**
   * The UTF-8 bytes of the Canonical JSON of the redacted event without
   * `signatures` and `unsigned`: what signatures cover, and what the
   * reference hash hashes.
   */
  signingBytes(): Uint8Array {
    this.signingBuffer ??= this.receivedSigningBytes() ?? bytesOf(this.signingPieces());
    return this.signingBuffer;
  }

  /** SHA-256 of {@link signingBytes}: the reference hash (possibly kept: copy it to hand it out). */
  referenceHash(): Uint8Array {
    return this.sharedReference() ?? hash('sha256', this.signingBytes(), 'buffer');
  }

  /**
   * The reference hash in unpadded Base64, standard or URL-safe: what event
   * IDs are made of (a string digest costs half of a Buffer one).
   *
   * @param urlSafe - URL-safe Base64 (room version 4 and later).
   */
  referenceHashBase64(urlSafe: boolean): string {
    const shared = this.sharedReference();
    if (shared !== undefined) return shared.toString(urlSafe ? 'base64url' : 'base64').slice(0, 43);
    if (urlSafe) return hash('sha256', this.signingBytes(), 'base64url');
    return hash('sha256', this.signingBytes(), 'base64').slice(0, 43);
  }

  /**
   * The reference hash finished from the state the content hash left after
   * the bytes both share, if it did ({@link contentDigest}).
   */
  private sharedReference(): Buffer | undefined {
    const prefix = this.referencePrefix;
    if (prefix !== undefined) {
      this.reference = prefix.state.update(this.signingBytes().subarray(prefix.length)).digest();
      this.referencePrefix = undefined;
    }
    return this.reference;
  }
}

/**
 * Whether the redacted content `kept` has every member of `content`: its
 * Canonical JSON is then the received one.
 */
function keepsEveryMember(content: JsonValue | undefined, kept: JsonValue | undefined): boolean {
  if (!isJsonObject(content) || !isJsonObject(kept)) return false;
  // Redaction only removes content members (or replaces one, which the
  // identity test sees), so having each is having the same set.
  for (const k of Object.keys(content)) if (!Object.hasOwn(kept, k) || kept[k] !== content[k]) return false;
  return true;
}
