/**
 * The history visibility conformance operations.
 *
 * @module
 */

import { visibleToServer, visibleToUser } from 'matrix-serverlib/auth';
import { InvalidInputError, type JsonObject } from 'matrix-serverlib/canonicaljson';
import { assertEventSchema, type Pdu } from 'matrix-serverlib/events';
import type { RoomVersionRules } from 'matrix-serverlib/roomversions';
import type { Operation } from './ops.js';
import { eventField, type Request, roomVersionField, stateField, stringField } from './request.js';

/** The request's `event`, held to its room version's JSON rules and event format. */
function event(req: Request, rules: RoomVersionRules): Pdu {
  const e = eventField(req, 'event', rules);
  assertEventSchema(e, rules);
  return e;
}

/** `e`, held to its room version's event format. */
function checkedEvent(e: JsonObject, rules: RoomVersionRules): Pdu {
  assertEventSchema(e, rules);
  return e;
}

function booleanField(req: Request, name: string): boolean {
  const v = req[name];
  if (v === undefined) throw new InvalidInputError('M_MISSING_PARAM', `Missing field "${name}"`);
  if (typeof v !== 'boolean') throw new InvalidInputError('M_INVALID_PARAM', `Field "${name}" must be a boolean`);
  return v;
}

/** A string field that must be valid Unicode (no unpaired surrogates). */
function unicodeField(req: Request, name: string): string {
  const v = stringField(req, name);
  if (!v.isWellFormed()) throw new InvalidInputError('M_INVALID_PARAM', `Field "${name}" holds an unpaired surrogate`);
  return v;
}

/** The visibility operations by name. */
export const visibilityOperations: ReadonlyArray<readonly [string, Operation]> = [
  [
    'visible_to_user',
    (req) => {
      const rules = roomVersionField(req);
      const e = event(req, rules);
      const s = stateField(req, 'state', rules, checkedEvent);
      const r = visibleToUser(e, s, stringField(req, 'user_id'), booleanField(req, 'joined_after'), rules);
      return { visible: r.visible, reason: r.reason };
    },
  ],
  [
    'visible_to_server',
    (req) => {
      const rules = roomVersionField(req);
      const e = event(req, rules);
      const s = stateField(req, 'state', rules, checkedEvent);
      const r = visibleToServer(e, s, unicodeField(req, 'server_name'), rules);
      return { visible: r.visible, reason: r.reason };
    },
  ],
];
