/**
 * Which servers must have signed an event (spec: server-server API,
 * "Validating hashes and signatures on received events"; the exceptions and
 * the error cases follow Synapse).
 *
 * @module
 */

import { isJsonObject, type JsonObject } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import { domainOf } from '../identifiers/identifiers.js';
import type { RoomVersionRules } from '../roomversions/rules.js';

/** A server whose signature an event needs. */
export interface RequiredSignature {
  /** The server name. */
  readonly serverName: string;
  /**
   * The key must be valid at least until this time: the event's
   * `origin_server_ts` from v5 (key validity enforced), 0 before.
   */
  readonly minimumValidUntilTs: number;
}

/**
 * Which servers must have signed an event:
 * - the sender's server, except for invites made from a third-party invite
 *   (the invited user's server may send them);
 * - in v1–v2, the server of the event ID too;
 * - from v8, for a join authorised by another server
 *   (`join_authorised_via_users_server`), that server too.
 *
 * @param event - the event.
 * @param rules - the room version's rules.
 * @throws {@link InvalidInputError} `M_BAD_JSON` if an identifier the
 *   answer depends on is not a string with a server name.
 */
export function requiredSignatures(event: JsonObject, rules: RoomVersionRules): RequiredSignature[] {
  const ts = event.origin_server_ts;
  const minimumValidUntilTs = rules.signatures.enforceKeyValidity && typeof ts === 'number' ? ts : 0;
  const content = isJsonObject(event.content) ? event.content : {};
  const isMember = event.type === 'm.room.member';
  // Synapse reads the membership of every member event to decide who must
  // sign, and refuses the event when there is none.
  if (isMember && content.membership === undefined) {
    throw new InvalidInputError('M_BAD_JSON', 'The member event has no content.membership');
  }
  const servers: string[] = [];
  const sender = domainOf(event.sender, 'sender');
  if (!(isMember && content.membership === 'invite' && content.third_party_invite !== undefined)) servers.push(sender);
  if (rules.signatures.eventIdServerSigns) {
    const idServer = domainOf(event.event_id, 'event_id');
    if (idServer !== sender) servers.push(idServer);
  }
  if (
    rules.auth.restrictedJoins &&
    isMember &&
    content.membership === 'join' &&
    content.join_authorised_via_users_server !== undefined
  ) {
    servers.push(domainOf(content.join_authorised_via_users_server, 'join_authorised_via_users_server'));
  }
  return [...new Set(servers)].map((serverName) => ({ serverName, minimumValidUntilTs }));
}
