/**
 * The redaction algorithm (spec: room versions, "Redactions"), driven by the
 * rules table. Redaction decides what the reference hash and the signatures
 * cover, so any difference here changes event IDs and breaks signatures.
 *
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue, setOwn } from '../canonicaljson/value.js';
import { InvalidInputError } from '../errors.js';
import type { RoomVersionRules } from '../roomversions/rules.js';

/** Top-level keys every version keeps. */
const KEPT_KEYS = [
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'auth_events',
  'origin_server_ts',
] as const;

/** Top-level keys kept up to v10 and no longer from v11 (MSC2176). */
const PRE_V11_KEPT_KEYS = ['prev_state', 'origin', 'membership'] as const;

/** The content keys an event type keeps, under the version's rules. */
function keptContentKeys(type: JsonValue | undefined, rules: RoomVersionRules): readonly string[] | 'all' {
  const r = rules.redaction;
  switch (type) {
    case 'm.room.member':
      return r.keepJoinAuthorisedVia ? ['membership', 'join_authorised_via_users_server'] : ['membership'];
    case 'm.room.create':
      return r.v11 ? 'all' : ['creator'];
    case 'm.room.join_rules':
      return r.keepJoinRulesAllow ? ['join_rule', 'allow'] : ['join_rule'];
    case 'm.room.power_levels':
      return r.v11
        ? ['ban', 'events', 'events_default', 'invite', 'kick', 'redact', 'state_default', 'users', 'users_default']
        : ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];
    case 'm.room.aliases':
      return r.keepAliases ? ['aliases'] : [];
    case 'm.room.history_visibility':
      return ['history_visibility'];
    case 'm.room.redaction':
      return r.v11 ? ['redacts'] : [];
    default:
      return [];
  }
}

/**
 * Returns the redacted form of an event: only the top-level keys and content
 * keys the room version keeps. `unsigned` is removed, as the spec says.
 *
 * @param event - the event (a PDU); not modified. Values are shared with the
 *   result, not copied.
 * @param rules - the room version's rules.
 * @returns a new object; `content` is always present (empty if the event's
 *   `content` is not an object).
 * @throws {@link InvalidInputError} `M_BAD_JSON` if the event has no
 *   string `type` or no `content`, which redaction needs (as in Synapse).
 */
export function redactEvent(event: JsonObject, rules: RoomVersionRules): JsonObject {
  if (typeof event.type !== 'string') throw new InvalidInputError('M_BAD_JSON', 'The event has no string "type"');
  if (event.content === undefined) throw new InvalidInputError('M_BAD_JSON', 'The event has no "content"');
  const out: JsonObject = {};
  for (const key of KEPT_KEYS) {
    const v = event[key];
    if (v !== undefined) out[key] = v;
  }
  if (!rules.redaction.v11) {
    for (const key of PRE_V11_KEPT_KEYS) {
      const v = event[key];
      if (v !== undefined) out[key] = v;
    }
  }
  // v12 create events have no room ID (MSC4291): one that carries a room_id
  // loses it, as in Synapse, so it cannot change the room ID derived from it.
  // Synapse drops it from every m.room.create event, whatever its state key
  // (or none): so must we, or such an event's ID differs from Synapse's.
  if (rules.eventFormat.roomIdIsCreateEventHash && event.type === 'm.room.create') {
    delete out.room_id;
  }
  out.content = redactContent(event.type, event.content, rules);
  return out;
}

function redactContent(
  type: JsonValue | undefined,
  content: JsonValue | undefined,
  rules: RoomVersionRules,
): JsonObject {
  if (!isJsonObject(content)) return {};
  const kept = keptContentKeys(type, rules);
  const out: JsonObject = {};
  if (kept === 'all') {
    for (const key of Object.keys(content)) setOwn(out, key, content[key] as JsonValue);
    return out;
  }
  for (const key of kept) {
    const v = content[key];
    if (v !== undefined) out[key] = v;
  }
  // v11 (MSC3821): a member event keeps `signed` of `third_party_invite`,
  // so that the invite's proof survives redaction. Synapse keeps an object
  // without `signed` as `{}` and drops anything that is not an object.
  if (rules.redaction.v11 && type === 'm.room.member') {
    const invite = content.third_party_invite;
    if (isJsonObject(invite)) out.third_party_invite = invite.signed === undefined ? {} : { signed: invite.signed };
  }
  return out;
}
