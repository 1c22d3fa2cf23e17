/**
 * What the examples in the TSDoc, the README and the guides take as given:
 * the values their surroundings hold (the body received, the room
 * version's rules, a keyring) and the application's own functions they
 * call (`reject`, `respond`). scripts/check-examples.ts imports into each
 * example those it uses without declaring them.
 *
 * One name, one meaning, in every example: a name that stands for
 * something else somewhere is renamed there, not loosened here. In
 * particular `event` is an event as a value, not yet checked; `pdu` is a
 * checked event (a `Pdu`); a `ReceivedPdu` from `parsePdu` is bound in the
 * example itself, as `received`.
 */

import type {
  DestinationResolver,
  EventCheck,
  EventKeyLookup,
  FederationClient,
  JsonObject,
  JsonValue,
  Keyring,
  KeyTransport,
  Pdu,
  RequestSigner,
  ResolvedServer,
  RoomVersionRules,
  ServerResolver,
  SigningKey,
  StateLookup,
  VerifyKey,
} from 'matrix-serverlib';

// What was received.

/** The body of a request or of a response received, as bytes. */
export declare const body: Uint8Array;
/** The body of a key server's response, as bytes. */
export declare const bytes: Uint8Array;
/** A JSON object received, signed. */
export declare const object: JsonObject;
/** A JSON value. */
export declare const value: JsonValue;
/** A transaction's ID and its PDUs. */
export declare const txnId: string;
export declare const pdus: JsonValue[];

// Rooms and events.

/** The room's version, as its create event says. */
export declare const roomVersion: string;
/** The rules of the room's version (`getRoomVersion(roomVersion)`). */
export declare const rules: RoomVersionRules;
/** An event as a value: parsed, not yet checked. */
export declare const event: JsonObject;
/** The unsigned event a server builds (`type`, `sender`, `content`, …). */
export declare const protoEvent: JsonObject;
/** A checked event. */
export declare const pdu: Pdu;
/** A room's create event, checked. */
export declare const createEvent: Pdu;
/** The auth events `pdu` cites. */
export declare const authEvents: readonly Pdu[];
/** The IDs of events that were rejected. */
export declare const rejected: ReadonlySet<string>;
/** The room's state: before an event, or now. */
export declare const state: StateLookup;
export declare const currentState: StateLookup;
/** A user. */
export declare const userId: string;
/** The events of the history visibility guide's room. */
export declare const historyVisibilityJoined: Pdu;
export declare const aliceJoin: Pdu;
export declare const bobInvite: Pdu;
export declare const message: Pdu;
/** What `verifyEvent` answered (docs/verifying-events.md, step 4). */
export declare const check: EventCheck;

// Keys.

/** Our signing key, a key we no longer use, and the keys of two server names we host. */
export declare const signingKey: SigningKey;
export declare const oldKey: SigningKey;
export declare const keyOfA: SigningKey;
export declare const keyOfC: SigningKey;
/** A signing key's seed, and a public key, in unpadded Base64. */
export declare const seedBase64: string;
export declare const publicKeyBase64: string;
/** A server name, and the time its keys must be valid until. */
export declare const serverName: string;
export declare const minimumValidUntilTs: number;
/** A notary's keys, as configured. */
export declare const verifyKeys: ReadonlyMap<string, VerifyKey>;
/** A synchronous lookup of the keys already at hand (e.g. `keyring.eventKeyLookup(…)`). */
export declare const keys: EventKeyLookup;
export declare const keyring: Keyring;
export declare const transport: KeyTransport;

// The network.

export declare const client: FederationClient;
export declare const resolver: ServerResolver;
/** What `resolver.resolve` answered. */
export declare const server: ResolvedServer;
/** A request signer, and a resolver of the application's own. */
export declare const sign: RequestSigner;
export declare const myResolver: DestinationResolver;
/** The application's HTTP client: the body of the answer, as bytes. */
export declare function myHttp(
  serverName: string,
  method: 'GET' | 'POST',
  path: string,
  body: JsonObject | undefined,
): Promise<Uint8Array>;
/** Gives up what the caller no longer waits for. */
export declare const signal: AbortSignal;

// The application's own.

/** Refuses what is being handled (an event, a request), for `reason`. */
export declare function reject(reason: string): never;
/** Uses an event: stores it, passes it on. */
export declare function use(pdu: Pdu, eventId: string): void;
/** Marks an event soft-failed. */
export declare function softFail(pdu: Pdu, reason: string): void;
/** Answers the request being served. */
export declare function respond(status: number, error: string): void;
/** A structured logger. */
export declare const log: { info(fields: Record<string, unknown>): void };
