"""Oracle ops for history visibility: visible_to_user, visible_to_server (see README.md).

Both answer whether an event may be shown, with Synapse's own code
(synapse.visibility):

- visible_to_user: _check_client_allowed_to_see_event, the per-event check
  of filter_and_transform_events_for_client (what /sync, /messages,
  /context, search... show a user);
- visible_to_server: filter_events_for_server (what /backfill,
  /get_missing_events and /event show another server), run on an in-memory
  stand-in for the storage it reads.

The request's `state` is the room state *before* the event (the state "at"
an event in the federation API). Synapse reads the state *after* the event
(its state group for the event: the state before, plus the event itself if
it is a state event) and, for a state event, the content of the event it
replaced as `unsigned.prev_content` (which its storage fills in from
`unsigned.replaces_state`, the event at the same type and state key in the
state before). The glue builds both from the request, and never takes
`prev_content` from the request's event (Synapse drops a received PDU's
`unsigned` but for `age` and the invite/knock room state).

Everything here is glue: it reads the request, builds Synapse's events and
the storage stand-in, and maps the outcome. Any exception Synapse raises
means the event is not shown (the request that asked fails), so it answers
`visible: false` with the exception as `reason`.
"""

from typing import Any, Callable, Dict, List, Tuple

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
    string,
)

StateKey = Tuple[str, str]


def _event(req: Request, rv: Any) -> Any:
    """The request's `event`, as the other event ops take it."""
    return make_event(event_field(req, "event", rv), rv)


def _state_after(event: Any, before: Dict[StateKey, Any]) -> Dict[StateKey, Any]:
    """The state after the event, as Synapse's state group for the event
    holds it, with the event's `unsigned.prev_content` set as Synapse's
    storage sets it (get_events with get_prev_content=True) from the event
    the state event replaced."""
    after = dict(before)
    replaced = None
    if event.is_state():
        key = (event.type, event.state_key)
        replaced = before.get(key)
        after[key] = event
    if replaced is not None:
        event.unsigned["prev_content"] = replaced.content
        event.unsigned["prev_sender"] = replaced.sender
    else:
        for k in ("prev_content", "prev_sender"):
            if k in event.unsigned:
                del event.unsigned[k]
    return after


def op_visible_to_user(req: Request) -> Result:
    from synapse.types import RetentionPolicy
    from synapse.visibility import _check_client_allowed_to_see_event

    rv = room_version(req)
    event = _event(req, rv)
    before = state_field(req, "state", rv)
    user_id = string(req, "user_id")
    joined_after = field(req, "joined_after", bool, "a boolean")
    state = _state_after(event, before)
    try:
        # Neutral values for what is not history visibility: no client
        # delivery filters (m.room.dummy, m.room.aliases, retention, ignored
        # senders), not an outlier, no erasure, nothing forced in. is_peeking
        # is Synapse's "not a member now, and not one since the event".
        seen = _check_client_allowed_to_see_event(
            user_id=user_id,
            event=event,
            clock=None,  # type: ignore[arg-type]  # read only by the delivery filters
            filter_send_to_client=False,
            is_peeking=not joined_after,
            always_include_ids=frozenset(),
            sender_ignored=False,
            retention_policy=RetentionPolicy(),
            state=state,
            sender_erased=False,
        )
    except Exception as e:
        return {"visible": False, "reason": f"Synapse raises: {describe(e)}"}
    if seen is None:
        return {"visible": False, "reason": "_check_client_allowed_to_see_event filtered it out"}
    return {"visible": True, "reason": ""}


class _StateStorage:
    """What filter_events_for_server uses of storage.state: the state (IDs)
    after each event, filtered as asked."""

    def __init__(self, by_event: Dict[str, Dict[StateKey, str]]) -> None:
        self.by_event = by_event

    async def get_state_ids_for_events(self, event_ids: Any, state_filter: Any = None) -> Dict[str, Dict[StateKey, str]]:
        return {i: state_filter.filter_state(self.by_event[i]) for i in event_ids if i in self.by_event}


class _MainStorage:
    """What filter_events_for_server uses of storage.main: get_events."""

    def __init__(self, events: Dict[str, Any]) -> None:
        self.events = events

    async def get_events(self, event_ids: Any, **_kwargs: Any) -> Dict[str, Any]:
        return {i: self.events[i] for i in event_ids if i in self.events}



def _refused_user_id(key: StateKey) -> bool:
    """A member state key that Synapse's Rust UserID parser refuses (no
    leading @) once _event_to_memberships has kept it (it has a colon)."""
    return key[0] == "m.room.member" and not key[1].startswith("@")


def op_visible_to_server(req: Request) -> Result:
    from synapse.visibility import filter_events_for_server

    rv = room_version(req)
    event = _event(req, rv)
    before = state_field(req, "state", rv)
    server_name = string(req, "server_name")
    try:
        server_name.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused("M_INVALID_PARAM", 'Field "server_name" holds an unpaired surrogate') from None
    state = _state_after(event, before)

    # Synapse's event_visible_to_server (Rust) goes through the server's
    # memberships in the order its state store returns them, which is not
    # defined, and raises at a state key it cannot parse as a user ID only if
    # it reaches it before a membership that grants access. Glue: such
    # memberships come first, so that the answer does not depend on the
    # order of the request's state (fail closed: the request would fail).
    ordered = sorted(state.items(), key=lambda kv: not _refused_user_id(kv[0]))

    # Event IDs for the stand-in storage: the event's own, and a stand-in
    # for every other state event (v1-v2 event_id fields may repeat, and the
    # state before an event never holds the event itself).
    events: Dict[str, Any] = {event.event_id: event}
    ids: Dict[StateKey, str] = {}
    for n, (key, ev) in enumerate(ordered):
        if ev is event:
            ids[key] = event.event_id
        else:
            ids[key] = f"\x00state {n}"
            while ids[key] in events:
                ids[key] += "'"
            events[ids[key]] = ev
    storage: Any = type("Storage", (), {})()
    storage.state = _StateStorage({event.event_id: ids})
    storage.main = _MainStorage(events)
    try:
        # Neutral values: no erased senders, not a partial-state room, and
        # events that may not be seen left out (not redacted).
        shown: List[Any] = run_now(
            filter_events_for_server(
                storage,
                server_name,
                "oracle.invalid",
                [event],
                redact=False,
                filter_out_erased_senders=False,
                filter_out_remote_partial_state_events=False,
            )
        )
    except Exception as e:
        return {"visible": False, "reason": f"Synapse raises: {describe(e)}"}
    if not shown:
        return {"visible": False, "reason": "filter_events_for_server filtered it out"}
    return {"visible": True, "reason": ""}


OPS: Dict[str, Callable[[Request], Result]] = {
    "visible_to_user": op_visible_to_user,
    "visible_to_server": op_visible_to_server,
}
