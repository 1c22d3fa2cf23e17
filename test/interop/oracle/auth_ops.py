"""Oracle ops for the auth rules: check_auth (see README.md).

check_auth answers whether an event passes the authorization rules of its
room version (spec: room versions 1-12, "Authorization rules") against the
auth events it names, with Synapse's own code: the two functions Synapse's
federation path runs for a received PDU once it holds the PDU's auth events
(FederationEventHandler._check_event_auth, and _auth_and_persist_outliers
for outliers):

- synapse.event_auth.check_state_independent_auth_rules (rule 1, the create
  event; rule 2, the auth events themselves: same room, no duplicates,
  only selected types, none rejected, a create event among them), and
- synapse.event_auth.check_state_dependent_auth_rules (the rest of the
  rules, against those auth events).

Everything here is glue: it reads the request, builds Synapse's events and
an in-memory stand-in for the store those functions read the auth events
from, and maps the outcome.
"""

from typing import Any, Callable, Dict, List, Set

from oracle import (
    run_now,
    Refused,
    Request,
    Result,
    describe,
    event_field,
    field,
    make_event,
    room_version,
    state_field,
)


def _auth_event_list(req: Request, rv: Any) -> List[Any]:
    """The request's `auth_events`: a list of objects (else M_INVALID_PARAM,
    checked for the whole list first), then each taken as the `event` of the
    other event ops is (validate_canonicaljson in v6+, then
    make_event_from_dict), one after the other: the first bad element
    decides the error. Returns pairs of the JSON and Synapse's event."""
    events = req.get("auth_events")
    if "auth_events" not in req:
        raise Refused("M_MISSING_PARAM", 'Missing field "auth_events"')
    if not isinstance(events, list):
        raise Refused("M_INVALID_PARAM", 'Field "auth_events" must be a list of events')
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise Refused("M_INVALID_PARAM", f'Element {i} of "auth_events" must be an object')
    out = []
    for e in events:
        # The same checks as the request's event: event_field on a one-field request.
        checked = event_field({"auth_event": e}, "auth_event", rv)
        out.append((checked, make_event(_without_unsigned(checked), rv)))
    return out


def _without_unsigned(event: Dict[str, Any]) -> Dict[str, Any]:
    """The event without `unsigned`, which no auth rule reads: Synapse
    rebuilds it on receipt (event_from_pdu_json), and its Rust parser alone
    would judge it differently (it takes any `age_ts`, and refuses inf)."""
    return {k: v for k, v in event.items() if k != "unsigned"}


def _rejected_ids(req: Request) -> Set[str]:
    """The request's `rejected_auth_events`: IDs of supplied auth events that
    were themselves rejected. IDs of events not supplied mark nothing."""
    if "rejected_auth_events" not in req:
        return set()
    ids = req["rejected_auth_events"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Refused("M_INVALID_PARAM", 'Field "rejected_auth_events" must be a list of event IDs')
    return set(ids)


class _AuthEventStore:
    """What check_state_independent_auth_rules uses of Synapse's store
    (event_auth._EventSourceStore): get_events, over the supplied events.
    As EventsWorkerStore.get_events does, rejected events are returned only
    with allow_rejected (the auth rules ask with it)."""

    def __init__(self, events: Dict[str, Any]) -> None:
        self.events = events

    async def get_events(
        self,
        event_ids: Any,
        redact_behaviour: Any = None,
        get_prev_content: bool = False,
        allow_rejected: bool = False,
    ) -> Dict[str, Any]:
        return {
            i: self.events[i]
            for i in event_ids
            if i in self.events and (allow_rejected or self.events[i].rejected_reason is None)
        }



def op_check_auth(req: Request) -> Result:
    from synapse.api.constants import RejectedReason
    from synapse.event_auth import (
        check_state_dependent_auth_rules,
        check_state_independent_auth_rules,
    )
    from synapse.events import make_event_from_dict

    rv = room_version(req)
    event = make_event(_without_unsigned(event_field(req, "event", rv)), rv)
    supplied = _auth_event_list(req, rv)
    rejected = _rejected_ids(req)

    # The store: event ID (as Synapse computes it: v1-v2 the event_id field,
    # v3+ the reference hash) -> Synapse's event. Events marked rejected carry
    # rejected_reason, as EventsWorkerStore builds them from its `rejections`
    # table (make_event_from_dict(..., rejected_reason=...)); the reason
    # Synapse records for events that fail the auth rules is "auth_error".
    store: Dict[str, Any] = {}
    for e, parsed in supplied:
        if parsed.event_id in rejected:
            parsed = make_event_from_dict(dict(e), rv, rejected_reason=RejectedReason.AUTH_ERROR)
        store[parsed.event_id] = parsed

    # Every auth event the event names must be supplied. In v12 (MSC4291)
    # Synapse's Rust Event adds the create event, "$" + the room ID without
    # its "!", to auth_event_ids(); that one must be supplied too. An event
    # whose auth_event_ids() raises (a v12 event listing the create event
    # explicitly) is left to the auth rules below, which raise the same
    # error: Synapse never accepts such an event.
    try:
        wanted = list(event.auth_event_ids())
    except Exception:
        wanted = []
    for i in wanted:
        if i not in store:
            raise Refused("M_INVALID_PARAM", f"auth event {i} not supplied")

    # FederationEventHandler._check_event_auth: any exception means the event
    # is not accepted (AuthError: rejected; anything else, a SynapseError for
    # a power level that is not a number, a KeyError, an AssertionError: the
    # PDU fails to be processed at all).
    try:
        run_now(check_state_independent_auth_rules(_AuthEventStore(store), event))
        # _load_or_fetch_auth_events_for_event hands over the deduplicated auth
        # events, rejected ones included.
        check_state_dependent_auth_rules(event, [store[i] for i in dict.fromkeys(event.auth_event_ids())])
    except Exception as e:
        return {"allowed": False, "reason": describe(e)}
    return {"allowed": True, "reason": ""}


def op_soft_fail(req: Request) -> Result:
    """The soft-fail check (an extension of the protocol): what
    FederationEventHandler._check_for_soft_fail does once it holds the
    room's current state, for an event that passed its auth checks."""
    from synapse.event_auth import auth_types_for_event, check_state_dependent_auth_rules

    rv = room_version(req)
    event = make_event(_without_unsigned(event_field(req, "event", rv)), rv)
    current_state = state_field(req, "current_state", rv, _without_unsigned)
    try:
        # _check_for_soft_fail: the types to pull from the current state.
        # auth_types_for_event names (m.room.create, "") in every room version,
        # v12 included (there the event does not cite it, but the current
        # state holds it), so the create event is selected as in v1-v11: the
        # same event check_auth's store supplies through auth_event_ids().
        auth_types = auth_types_for_event(rv, event)
        # "current_state_ids_list = [e for k, e in current_state_ids.items()
        # if k in auth_types]", then get_events_as_list.
        current_auth_events = [e for k, e in current_state.items() if k in auth_types]
        check_state_dependent_auth_rules(event, current_auth_events)
    except Exception as e:
        # AuthError soft-fails the event; anything else (a KeyError for a
        # member event without membership, the SynapseError of a power level
        # int() cannot read) fails its processing: it is not accepted either.
        return {"allowed": False, "reason": describe(e)}
    return {"allowed": True, "reason": ""}


OPS: Dict[str, Callable[[Request], Result]] = {"check_auth": op_check_auth, "soft_fail": op_soft_fail}
