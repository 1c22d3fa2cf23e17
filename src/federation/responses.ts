/**
 * The responses of the federation endpoints the client calls, typed and
 * checked: each member a caller reads is there with the type the spec
 * gives it (server-server API, each endpoint's "200 response"), or the
 * call fails with a `bad-response` FederationError naming it.
 * Members the spec marks optional are checked when present; members it
 * does not name are kept as they came. Events stay JSON objects: checking
 * them is the caller's work (`parsePdu`, `checkMembershipTemplate`), not
 * the transport's.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from '../canonicaljson/value.js';

/**
 * `make_join`, `make_leave` and `make_knock`: the template of a membership
 * event to sign and send back (check it with `checkMembershipTemplate`).
 */
export interface MembershipTemplateResponse extends JsonObject {
  /** The unsigned membership event. */
  readonly event: JsonObject;
  /**
   * The room's version: the spec lets `make_join` omit it in rooms of
   * version 1 or 2; `make_leave` has none.
   */
  readonly room_version?: string;
}

/** `send_join` (v2): the room as the resident server sees it. */
export interface SendJoinResponse extends JsonObject {
  /** The room state before the join, as PDUs. */
  readonly state: JsonObject[];
  /** The auth chain of the state and of the join, as PDUs. */
  readonly auth_chain: JsonObject[];
  /** The join event as the resident server signed it (restricted joins). */
  readonly event?: JsonObject;
  /** Whether membership events were left out of `state` (MSC3706). */
  readonly members_omitted?: boolean;
  /** With `members_omitted`: the servers in the room. */
  readonly servers_in_room?: string[];
}

/** `send_knock`: the state the room shares with the knocking user. */
export interface SendKnockResponse extends JsonObject {
  /** Stripped state events. */
  readonly knock_room_state: JsonObject[];
}

/** `invite` (v2): the invite event, signed by the invitee's server. */
export interface InviteResponse extends JsonObject {
  /** The invite, with the invitee's server's signature added. */
  readonly event: JsonObject;
}

/** `send`: what the receiving server made of each PDU. */
export interface SendTransactionResponse extends JsonObject {
  /**
   * By event ID: an empty object for a PDU it took, `{ error }` for one it
   * did not.
   */
  readonly pdus: { readonly [eventId: string]: JsonObject };
}

/** `event` and `backfill`: a transaction holding the PDUs asked for. */
export interface PduTransactionResponse extends JsonObject {
  /** The server that answered. */
  readonly origin?: string;
  /** The PDUs. */
  readonly pdus: JsonObject[];
}

/** `state`: the room state at an event, and its auth chain. */
export interface StateResponse extends JsonObject {
  /** The state events, as PDUs. */
  readonly pdus: JsonObject[];
  /** Their auth chain, as PDUs. */
  readonly auth_chain: JsonObject[];
}

/** `state_ids`: the IDs of the room state at an event, and of its auth chain. */
export interface StateIdsResponse extends JsonObject {
  /** The state events' IDs. */
  readonly pdu_ids: string[];
  /** The auth chain's IDs. */
  readonly auth_chain_ids: string[];
}

/** `event_auth`: an event's auth chain. */
export interface EventAuthResponse extends JsonObject {
  /** The auth chain, as PDUs. */
  readonly auth_chain: JsonObject[];
}

/** `get_missing_events`: the events between the earliest and the latest. */
export interface MissingEventsResponse extends JsonObject {
  /** The events, as PDUs. */
  readonly events: JsonObject[];
}

/** `query/profile`: the user's profile, or the one field asked for. */
export interface ProfileResponse extends JsonObject {
  /** The display name, if the user has one. */
  readonly displayname?: string | null;
  /** The avatar's `mxc://` URI, if the user has one. */
  readonly avatar_url?: string | null;
}

/** `version`: the server's implementation. */
export interface VersionResponse extends JsonObject {
  /** Its `name` and `version` (each optional), as the server gives them: unchecked. */
  readonly server: JsonObject;
}

/** `key/v2/query`: the keys a notary holds for the servers asked about. */
export interface KeyQueryResponse extends JsonObject {
  /** Each server's keys, as it signed them (check them with the keys module). */
  readonly server_keys: JsonObject[];
}

/** The type a response's member must have. */
type Member = 'object' | 'objects' | 'string' | 'strings' | 'boolean' | 'string or null' | 'object of objects';

/**
 * The members of a response that are checked: each listed is checked for
 * its type when present, and a required one must be present.
 */
export type ResponseShape = Readonly<Record<string, readonly [Member, 'required' | 'optional']>>;

function holds(value: JsonValue, member: Member): boolean {
  switch (member) {
    case 'object':
      return isJsonObject(value);
    case 'objects':
      return Array.isArray(value) && value.every(isJsonObject);
    case 'string':
      return typeof value === 'string';
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'boolean':
      return typeof value === 'boolean';
    case 'string or null':
      return value === null || typeof value === 'string';
    case 'object of objects':
      return isJsonObject(value) && Object.values(value).every(isJsonObject);
  }
}

const NAMES: Readonly<Record<Member, string>> = {
  object: 'an object',
  objects: 'a list of objects',
  string: 'a string',
  strings: 'a list of strings',
  boolean: 'a boolean',
  'string or null': 'a string or null',
  'object of objects': 'an object of objects',
};

/**
 * What is wrong with `body` for `shape`: the first member missing (`with
 * no event`) or of another type (`whose event is not an object`), or
 * `undefined` if none is.
 */
export function shapeProblem(body: JsonObject, shape: ResponseShape): string | undefined {
  for (const [key, [member, need]] of Object.entries(shape)) {
    const value = Object.hasOwn(body, key) ? body[key] : undefined;
    if (value === undefined) {
      if (need === 'required') return `with no ${key}`;
    } else if (!holds(value, member)) {
      return `whose ${key} is not ${NAMES[member]}`;
    }
  }
  return undefined;
}

const MEMBERSHIP_TEMPLATE: ResponseShape = { event: ['object', 'required'], room_version: ['string', 'optional'] };
const PDU_TRANSACTION: ResponseShape = { pdus: ['objects', 'required'], origin: ['string', 'optional'] };

/** The shape of each endpoint's response (the spec's required and optional members the types name). */
export const SHAPES = {
  makeJoin: MEMBERSHIP_TEMPLATE,
  makeLeave: MEMBERSHIP_TEMPLATE,
  makeKnock: MEMBERSHIP_TEMPLATE,
  sendJoin: {
    state: ['objects', 'required'],
    auth_chain: ['objects', 'required'],
    event: ['object', 'optional'],
    members_omitted: ['boolean', 'optional'],
    servers_in_room: ['strings', 'optional'],
  },
  sendLeave: {},
  sendKnock: { knock_room_state: ['objects', 'required'] },
  invite: { event: ['object', 'required'] },
  sendTransaction: { pdus: ['object of objects', 'required'] },
  getEvent: PDU_TRANSACTION,
  backfill: PDU_TRANSACTION,
  getState: { pdus: ['objects', 'required'], auth_chain: ['objects', 'required'] },
  getStateIds: { pdu_ids: ['strings', 'required'], auth_chain_ids: ['strings', 'required'] },
  getEventAuth: { auth_chain: ['objects', 'required'] },
  getMissingEvents: { events: ['objects', 'required'] },
  queryProfile: { displayname: ['string or null', 'optional'], avatar_url: ['string or null', 'optional'] },
  getVersion: { server: ['object', 'required'] },
  queryKeys: { server_keys: ['objects', 'required'] },
  getServerKeys: {},
} as const satisfies Readonly<Record<string, ResponseShape>>;
