/**
 * Validating the event templates a remote server returns from `make_join`,
 * `make_leave` and `make_knock` before we sign them (spec: server-server
 * API, "Joining Rooms", "Leaving Rooms", "Knocking upon a room").
 *
 * We sign what the resident server sends back, so a malicious server could
 * otherwise get our signature on any event: a ban, a power level change, a
 * join to another room, an event in a room version we do not support.
 * Everything that makes the event mean something is checked against what
 * we asked for; everything we compute ourselves is replaced.
 *
 * @module
 */

import { isJsonObject, type JsonObject } from '../canonicaljson/value.js';
import { getRoomVersion, type RoomVersionRules } from '../roomversions/rules.js';
import { type BuildOptions, type BuiltEvent, buildEvent } from './builder.js';

/** What we asked the resident server for. */
export interface MembershipRequest {
  /** The membership we want: `join`, `leave` or `knock`. */
  readonly membership: 'join' | 'leave' | 'knock';
  /** The room. */
  readonly roomId: string;
  /** Our user, who is both sender and state key. */
  readonly userId: string;
  /**
   * The room versions we told the resident server we support (the `ver`
   * parameters of `make_join` and `make_knock`); it must choose one of them.
   */
  readonly supportedVersions: readonly string[];
}

/** The outcome of {@link checkMembershipTemplate}. */
export type TemplateCheck =
  | {
      /** The template is what we asked for. */
      readonly valid: true;
      /** The template event, without the keys we compute ourselves. */
      readonly event: JsonObject;
      /** The rules of the room version the server chose. */
      readonly rules: RoomVersionRules;
    }
  | {
      /** The template is not what we asked for: do not sign it. */
      readonly valid: false;
      /** What is wrong. */
      readonly reason: string;
    };

/** Content keys a template may hold for each membership. */
const ALLOWED_CONTENT: Record<MembershipRequest['membership'], readonly string[]> = {
  // A restricted join names the resident user who authorises it (v8+).
  join: ['membership', 'join_authorised_via_users_server'],
  leave: ['membership'],
  knock: ['membership'],
};

/** Keys we fill in ourselves when we build the event. */
const OURS = ['hashes', 'signatures', 'unsigned', 'origin_server_ts', 'event_id', 'origin'];

/**
 * Checks a `make_join`, `make_leave` or `make_knock` response: the room
 * version must be one we support (and asked for); the event must be an
 * `m.room.member` state event in our room, sent by our user about our user,
 * with the membership we asked for and no other content (except
 * `join_authorised_via_users_server` on a join, in versions with restricted
 * joins). Timestamps, hashes, signatures and v1–v2 event IDs are dropped:
 * we compute them.
 *
 * @param response - the response body, `{room_version, event}`.
 * @param request - what we asked for.
 * @returns the cleaned template and its room version's rules, or the reason
 *   it must not be signed. Never throws.
 */
export function checkMembershipTemplate(response: unknown, request: MembershipRequest): TemplateCheck {
  const bad = (reason: string): TemplateCheck => ({ valid: false, reason });
  if (!isJsonObject(response)) return bad('The response is not a JSON object');
  const version = response.room_version;
  // make_leave responses of old servers may omit room_version; v1 is the
  // spec's default only where we have nothing else, so we refuse instead.
  if (typeof version !== 'string') return bad('The response has no room_version string');
  if (!request.supportedVersions.includes(version)) return bad(`Room version ${version} was not one we offered`);
  let rules: RoomVersionRules;
  try {
    rules = getRoomVersion(version);
  } catch {
    return bad(`Room version ${version} is not supported`);
  }
  if (request.membership === 'knock' && !rules.auth.knocking) return bad(`Room version ${version} has no knocking`);
  const event = response.event;
  if (!isJsonObject(event)) return bad('The response has no event object');
  if (event.type !== 'm.room.member') return bad('The template is not an m.room.member event');
  if (event.room_id !== request.roomId) return bad('The template is for another room');
  if (event.sender !== request.userId) return bad('The template has another sender');
  if (event.state_key !== request.userId) return bad('The template has another state_key');
  const content = event.content;
  if (!isJsonObject(content)) return bad('The template has no content object');
  if (content.membership !== request.membership) return bad(`The template's membership is not ${request.membership}`);
  const allowed = ALLOWED_CONTENT[request.membership];
  for (const key of Object.keys(content)) {
    if (!allowed.includes(key)) return bad(`The template's content has an unexpected key ${JSON.stringify(key)}`);
  }
  const via = content.join_authorised_via_users_server;
  if (via !== undefined && (!rules.auth.restrictedJoins || typeof via !== 'string')) {
    return bad('The template has a join_authorised_via_users_server this room version does not allow');
  }
  const cleaned: JsonObject = { ...event };
  for (const key of OURS) delete cleaned[key];
  return { valid: true, event: cleaned, rules };
}

/** The outcome of {@link signMembershipTemplate}. */
export type SignedTemplate =
  | ({
      /** The template was what we asked for; here is the signed event. */
      readonly valid: true;
    } & BuiltEvent)
  | {
      /** The template was refused. */
      readonly valid: false;
      /** Why. */
      readonly reason: string;
    };

/**
 * Checks a membership template and, if it is what we asked for, builds and
 * signs the event.
 *
 * @param response - the `make_*` response body.
 * @param request - what we asked for.
 * @param options - our server name, key and clock.
 * @returns the signed event, or the reason the template was refused (one
 *   that cannot be built or signed included). Never throws.
 */
export function signMembershipTemplate(
  response: unknown,
  request: MembershipRequest,
  options: BuildOptions,
): SignedTemplate {
  const check = checkMembershipTemplate(response, request);
  if (!check.valid) return check;
  try {
    return { valid: true, ...buildEvent(check.event, check.rules, options) };
  } catch (e) {
    return { valid: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
