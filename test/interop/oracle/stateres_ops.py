"""Oracle op for state resolution: resolve_state (see README.md).

resolve_state answers what Synapse's own state resolution makes of the
request's state sets: synapse.state.v2.resolve_events_with_store for room
versions 2-12 (v2, and v2.1 in v12), synapse.state.v1.resolve_events_with_store
for room version 1, the entry points Synapse's StateResolutionHandler calls.

Glue only: every event is built with make_event_from_dict (rejected ones with
rejected_reason, as Synapse's store builds them), and v2 is given them all as
in-flight events (event_map), as Synapse's own tests (tests/state/test_v2.py)
do, with an in-memory stand-in for the StateResolutionStore. v1 is given them
through its state_map_factory, which Synapse points at its store's get_events
without allow_rejected: rejected events are not returned, as in Synapse.
"""

from typing import Any, Callable, Dict, List, Set, Tuple

from oracle import Refused, Request, Result, event_field, make_event, room_version, run_now


def _without_unsigned(event: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in event.items() if k != "unsigned"}


def _events(req: Request, rv: Any, rejected: Set[str]) -> Dict[str, Any]:
    """The request's `events` by Synapse's event ID (the last of two with one
    ID kept): each taken as the other event ops take an event, one after the
    other, the first bad one deciding the error."""
    from synapse.api.constants import RejectedReason
    from synapse.events import make_event_from_dict

    if "events" not in req:
        raise Refused("M_MISSING_PARAM", 'Missing field "events"')
    events = req["events"]
    if not isinstance(events, list):
        raise Refused("M_INVALID_PARAM", 'Field "events" must be a list')
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise Refused("M_INVALID_PARAM", f'Element {i} of "events" must be an object')
    store: Dict[str, Any] = {}
    for e in events:
        checked = _without_unsigned(event_field({"event": e}, "event", rv))
        parsed = make_event(checked, rv)
        if parsed.event_id in rejected:
            parsed = make_event_from_dict(dict(checked), rv, rejected_reason=RejectedReason.AUTH_ERROR)
        store[parsed.event_id] = parsed
    return store


def _ids(req: Request, name: str) -> Set[str]:
    if name not in req:
        return set()
    ids = req[name]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Refused("M_INVALID_PARAM", f'Field "{name}" must be a list of strings')
    return set(ids)


def _state_sets(req: Request, store: Dict[str, Any]) -> List[Dict[Tuple[str, str], str]]:
    if "state_sets" not in req:
        raise Refused("M_MISSING_PARAM", 'Missing field "state_sets"')
    sets = req["state_sets"]
    if not isinstance(sets, list):
        raise Refused("M_INVALID_PARAM", 'Field "state_sets" must be a list')
    out = []
    for i, ids in enumerate(sets):
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise Refused("M_INVALID_PARAM", f'Element {i} of "state_sets" must be a list of event IDs')
        state: Dict[Tuple[str, str], str] = {}
        for event_id in ids:
            event = store.get(event_id)
            if event is None:
                raise Refused("M_INVALID_PARAM", f"The state event {event_id} is not among the events")
            if not event.is_state():
                raise Refused("M_INVALID_PARAM", f"The event {event_id} is not a state event")
            key = (event.type, event.state_key)
            if key in state:
                raise Refused("M_INVALID_PARAM", f"State set {i} has two events for {key!r}")
            state[key] = event_id
        out.append(state)
    return out


def _check_events(state_sets: List[Dict[Tuple[str, str], str]], store: Dict[str, Any]) -> None:
    """Glue, as the runner checks it: the events are of one room, and hold
    the auth chains of the state sets' events (Synapse's auth_event_ids(),
    which from v12 names the create event)."""
    if len({e.room_id for e in store.values()}) > 1:
        raise Refused("M_INVALID_PARAM", "The events are of more than one room")
    stack = [i for s in state_sets for i in s.values()]
    seen = set(stack)
    while stack:
        for auth in store[stack.pop()].auth_event_ids():
            if auth in seen:
                continue
            if auth not in store:
                raise Refused("M_INVALID_PARAM", f"The auth event {auth} is not among the events")
            seen.add(auth)
            stack.append(auth)


class _Clock:
    """What v2 uses of Synapse's Clock: a sleep(0) now and then, to let the
    reactor run. Nothing else runs here, so it returns at once."""

    async def sleep(self, duration: Any) -> None:
        return None


class _StateResolutionStore:
    """The StateResolutionStore stand-in, as tests/state/test_v2.py's: events
    from memory (rejected ones only with allow_rejected, as Synapse's
    get_events), and the auth chain difference of persisted events. Every
    event is given in flight, so v2 works out the difference of those itself
    and asks this only about the persisted rest: none."""

    def __init__(self, events: Dict[str, Any]) -> None:
        self.events = events

    async def get_events(self, event_ids: Any, allow_rejected: bool = False) -> Dict[str, Any]:
        return {
            i: self.events[i]
            for i in event_ids
            if i in self.events and (allow_rejected or self.events[i].rejected_reason is None)
        }

    def _chain(self, event_ids: Set[str]) -> Set[str]:
        # As Synapse's chain cover index counts it: the events themselves too.
        chain: Set[str] = set()
        stack = list(event_ids)
        while stack:
            event_id = stack.pop()
            if event_id in chain:
                continue
            chain.add(event_id)
            stack.extend(self.events[event_id].auth_event_ids())
        return chain

    async def get_auth_chain_difference(
        self,
        room_id: str,
        state_sets: List[Set[str]],
        conflicted_state: Any,
        additional_backwards_reachable_conflicted_events: Any,
    ) -> Any:
        from synapse.storage.databases.main.event_federation import StateDifference

        chains = [self._chain(s) for s in state_sets]
        union = set().union(*chains)
        common = chains[0].intersection(*chains[1:]) if chains else set()
        return StateDifference(auth_difference=union - common, conflicted_subgraph=set())


def op_resolve_state(req: Request) -> Result:
    from synapse.api.room_versions import StateResolutionVersions

    # synapse.state and synapse.event_auth import each other: Synapse itself
    # always has event_auth loaded first, and so must the oracle.
    import synapse.event_auth  # noqa: F401
    from synapse.state import v1, v2

    rv = room_version(req)
    # Fields are checked in the runner's order (events, state_sets, then
    # rejected), but the rejected events are built as such from the start.
    raw = req.get("rejected")
    rejected = set(raw) if isinstance(raw, list) and all(isinstance(i, str) for i in raw) else set()
    store = _events(req, rv, rejected)
    state_sets = _state_sets(req, store)
    _ids(req, "rejected")
    _check_events(state_sets, store)
    room_id = next(iter(store.values())).room_id if store else ""
    if not state_sets:
        # Synapse's v1 cannot take no state at all; v2 answers it empty.
        return {"state": {}}
    res_store = _StateResolutionStore(store)
    if rv.state_res == StateResolutionVersions.V1:
        resolved = run_now(
            v1.resolve_events_with_store(room_id, rv, state_sets, None, res_store.get_events)
        )
    else:
        resolved = run_now(
            v2.resolve_events_with_store(_Clock(), room_id, rv, state_sets, dict(store), res_store)
        )
    state: Dict[str, Dict[str, str]] = {}
    for (event_type, state_key), event_id in resolved.items():
        state.setdefault(event_type, {})[state_key] = event_id
    return {"state": state}


OPS: Dict[str, Callable[[Request], Result]] = {"resolve_state": op_resolve_state}
