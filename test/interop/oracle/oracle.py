"""The Synapse oracle: answers the conformance protocol (shared CONFORMANCE.md)
by calling Synapse's own code and the libraries Synapse uses on the
federation path, so that matrix-serverlib's answers can be diffed against it.

Reads request lines from stdin and writes one answer line per request, in
order, flushing after each. Never dies on bad input; exits 0 at end of input.

Synapse is called, never copied: everything below is glue.
"""

import copy
import hashlib
import json
import logging
import os
import sys
from types import SimpleNamespace, TracebackType
from typing import Any, Callable, Dict, List, Optional, Tuple

from canonicaljson import encode_canonical_json
from signedjson.key import (
    decode_signing_key_base64,
    decode_verify_key_bytes,
    encode_verify_key_base64,
    get_verify_key,
)
from signedjson.sign import SignatureVerifyException, sign_json, verify_signed_json
from unpaddedbase64 import decode_base64, encode_base64

from synapse.api.errors import SynapseError
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.events.utils import validate_canonicaljson
from synapse.util.json import json_decoder

# A stock Synapse runs with the interpreter's defaults; don't let the
# environment (PYTHONINTMAXSTRDIGITS) change what the oracle accepts.
sys.set_int_max_str_digits(sys.int_info.default_max_str_digits)

# Synapse logs warnings for the events it refuses (too many prev_events,
# tampered content): the answer says so already, and stderr stays quiet.
logging.getLogger().addHandler(logging.NullHandler())

Request = Dict[str, Any]
Result = Dict[str, Any]


class Refused(Exception):
    """The input was rejected: answered with ok false and this errcode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def describe(e: BaseException) -> str:
    # Synapse's Rust errors carry a backtrace when RUST_BACKTRACE is set.
    message = str(e).split("\n\nStack backtrace:")[0]
    return f"{type(e).__name__}: {message}"


def _raised_in(tb: Optional[TracebackType], fn: Callable[..., Any]) -> bool:
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code is getattr(fn, "__code__", None)


def decode_error_code(e: Exception) -> str:
    """The errcode for a failure of Synapse's JSON decoder.

    Syntax errors, and the NaN/Infinity literals that Synapse's decoder
    refuses through its parse_constant hook (a plain ValueError, not a
    JSONDecodeError), are not JSON. Anything else the decoder raises is
    JSON that cannot be held: nesting past the interpreter's recursion limit
    (RecursionError), integers over Python's 4300-digit limit (ValueError).
    """
    if isinstance(e, json.JSONDecodeError):
        return "M_NOT_JSON"
    if isinstance(e, ValueError) and _raised_in(e.__traceback__, json_decoder.parse_constant):
        return "M_NOT_JSON"
    return "M_BAD_JSON"


def decode(text: str) -> Any:
    """Parses JSON text with the decoder Synapse uses for federation bodies."""
    try:
        return json_decoder.decode(text)
    except Exception as e:
        raise Refused(decode_error_code(e), describe(e)) from None


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes of value, as signedjson and Synapse compute them."""
    try:
        return encode_canonical_json(value)
    except Exception as e:  # inf, unpaired surrogates, RecursionError
        raise Refused("M_BAD_JSON", describe(e)) from None


# Request fields.

_MISSING = object()


def field(req: Request, name: str, kind: type, what: str) -> Any:
    v = req.get(name, _MISSING)
    if v is _MISSING:
        raise Refused("M_MISSING_PARAM", f'Missing field "{name}"')
    if not isinstance(v, kind):
        raise Refused("M_INVALID_PARAM", f'Field "{name}" must be {what}')
    return v


def string(req: Request, name: str) -> str:
    return field(req, name, str, "a string")


def obj(req: Request, name: str) -> Dict[str, Any]:
    return field(req, name, dict, "an object")


def room_version(req: Request, default: Optional[str] = None) -> Any:
    v = req.get("room_version", _MISSING)
    if v is _MISSING and default is not None:
        v = default
    if v is _MISSING:
        raise Refused("M_MISSING_PARAM", 'Missing field "room_version"')
    rv = KNOWN_ROOM_VERSIONS.get(v) if isinstance(v, str) else None
    if rv is None:
        raise Refused("M_UNSUPPORTED_ROOM_VERSION", f"Unknown room version {v!r}")
    return rv


def signing_key(req: Request, key_id: str) -> Any:
    algorithm, colon, version = key_id.partition(":")
    if not colon:
        raise Refused("M_INVALID_PARAM", f"Key ID {key_id!r} has no ':'")
    try:
        return decode_signing_key_base64(algorithm, version, string(req, "seed"))
    except Refused:
        raise
    except Exception as e:
        raise Refused("M_INVALID_PARAM", f"Bad signing key: {describe(e)}") from None


def verify_key(req: Request, key_id: str) -> Any:
    public_key = string(req, "public_key")
    try:
        return decode_verify_key_bytes(key_id, decode_base64(public_key))
    except Exception as e:
        raise Refused("M_INVALID_PARAM", f"Bad verify key: {describe(e)}") from None


# Operations: each takes the request and returns the result fields.


def op_canonical_json(req: Request) -> Result:
    rv = room_version(req, default="12")
    value = decode(string(req, "json"))
    if rv.strict_canonicaljson:
        try:
            validate_canonicaljson(value)
        except SynapseError as e:
            raise Refused(e.errcode, e.msg) from None
        except RecursionError as e:
            raise Refused("M_BAD_JSON", describe(e)) from None
    return {"canonical": canonical(value).decode("utf-8")}


def op_public_key(req: Request) -> Result:
    key = signing_key(req, "ed25519:1")
    return {"public_key": encode_verify_key_base64(get_verify_key(key))}


def op_sign_json(req: Request) -> Result:
    target = obj(req, "object")
    server_name = string(req, "server_name")
    key = signing_key(req, string(req, "key_id"))
    try:
        return {"signed": sign_json(target, server_name, key)}
    except (AttributeError, TypeError) as e:  # "signatures" of the wrong shape
        raise Refused("M_INVALID_PARAM", describe(e)) from None
    except Exception as e:  # the object cannot be encoded
        raise Refused("M_BAD_JSON", describe(e)) from None


def op_verify_json(req: Request) -> Result:
    target = obj(req, "object")
    server_name = string(req, "server_name")
    key = verify_key(req, string(req, "key_id"))
    try:
        verify_signed_json(target, server_name, key)
    except SignatureVerifyException as e:
        return {"valid": False, "reason": str(e)}
    except Exception as e:
        # Synapse fails the request on these too (signatures of the wrong
        # shape, an object that cannot be encoded): never accepted.
        return {"valid": False, "reason": describe(e)}
    return {"valid": True}


# Events. Everything below calls Synapse's federation-path code; the glue
# only reads the request, builds Synapse's objects and maps the outcome.
#
# The heavier Synapse modules (the keyring, the federation handlers) are
# imported on first use, so the foundations ops start as fast as before.


def event_field(req: Request, name: str, rv: Any) -> Dict[str, Any]:
    """An event of the request, taken as received over federation.

    From v6 (strict_canonicaljson) every event Synapse holds has passed
    validate_canonicaljson on the way in (event_from_pdu_json for received
    PDUs, EventValidator for its own): an event that fails it cannot be
    asked about, as for canonical_json. `unsigned` is left out of that
    check: event_from_pdu_json strips it (to `age`, and the invite/knock
    room state of member events) before validating, and no op covers it.
    Then the event must nest no deeper than Synapse can build (see
    check_nesting).
    """
    event = obj(req, name)
    if rv.strict_canonicaljson:
        try:
            validate_canonicaljson({k: v for k, v in event.items() if k != "unsigned"})
        except SynapseError as e:
            raise Refused(e.errcode, e.msg) from None
        except RecursionError as e:
            raise Refused("M_BAD_JSON", describe(e)) from None
    check_nesting(event, rv)
    return event


def _skeleton(rv: Any) -> Dict[str, Any]:
    """The smallest event of the version's format the Rust parser takes."""
    from synapse.api.room_versions import EventFormatVersions

    skeleton: Dict[str, Any] = {
        "type": "o",
        "room_id": "!o:o",
        "sender": "@o:o",
        "depth": 0,
        "origin_server_ts": 0,
        "content": {},
        "prev_events": [],
        "auth_events": [],
        "hashes": {},
        "signatures": {},
    }
    if rv.event_format == EventFormatVersions.ROOM_V1_V2:
        skeleton["event_id"] = "$o:o"
    return skeleton


def check_nesting(event: Dict[str, Any], rv: Any) -> None:
    """Refuses an event nested deeper than Synapse can build it.

    Synapse builds every event it holds with make_event_from_dict (received
    ones in event_from_pdu_json, its own in the event builder), which parses
    the event's Canonical JSON with its Rust event parser: serde_json, whose
    recursion limit refuses 128 levels of nesting and more, the event object
    being the first. The ops that build the event meet the limit there, but
    content_hash, redact and sign_event call code that takes a dict, and
    would answer about an event Synapse cannot hold.

    So every event is given to make_event_from_dict as a well-formed
    skeleton of the version's format with the event's members beside it
    under keys no event has (the parser keeps unknown keys, nesting limit
    included): nothing but the members' nesting can fail there, whatever
    else is wrong with the event (each op answers that, as before). An event
    that cannot be encoded at all (unpaired surrogates, inf) is left to the
    op too."""
    from synapse.events import make_event_from_dict

    probe = _skeleton(rv)
    for key, value in event.items():
        probe[f"oracle nesting {key}"] = value
    try:
        encode_canonical_json(probe)
    except Exception:
        return
    try:
        make_event_from_dict(probe, rv)
    except SynapseError as e:
        raise Refused("M_BAD_JSON", f"Synapse cannot build the event: {cause(e)}") from None


def cause(e: BaseException) -> str:
    """The message of e with what it was raised from (Synapse turns the Rust
    parser's ValueError into a bare "Invalid event JSON")."""
    inner = e.__cause__ or e.__context__
    return describe(e) if inner is None else f"{describe(e)}: {describe(inner)}"


def make_event(event: Dict[str, Any], rv: Any) -> Any:
    """synapse.events.make_event_from_dict: Synapse's Event (its Rust parser
    checks the keys and types of the room version's event format)."""
    from synapse.events import make_event_from_dict

    try:
        return make_event_from_dict(copy.deepcopy(event), rv)
    except SynapseError as e:
        raise Refused(e.errcode, cause(e)) from None
    except Exception as e:  # unpaired surrogates, inf, nesting
        raise Refused("M_BAD_JSON", cause(e)) from None


def state_field(
    req: Request, name: str, rv: Any, prepare: Callable[[Dict[str, Any]], Dict[str, Any]] = lambda e: e
) -> Dict[Tuple[str, str], Any]:
    """A list of state events of the request, as a state map: each element
    taken as event_field takes an event (validate_canonicaljson in v6+),
    then `prepare`d and made with make_event_from_dict, one after the
    other, the first bad element deciding the error (M_INVALID_PARAM for one
    that is not an object); then each must be a state event, and no two may
    share a type and state key (state holds one event per key). Returns the
    state map, in the list's order."""
    events = field(req, name, list, "a list of state events")
    parsed = []
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise Refused("M_INVALID_PARAM", f'Element {i} of "{name}" must be an object')
        checked = event_field({"state_event": e}, "state_event", rv)
        parsed.append(make_event(prepare(checked), rv))
    state: Dict[Tuple[str, str], Any] = {}
    for ev in parsed:
        if not ev.is_state():
            raise Refused("M_INVALID_PARAM", "A state event needs a string type and state_key")
        key = (ev.type, ev.state_key)
        if key in state:
            raise Refused("M_INVALID_PARAM", f"Two state events for {key!r}")
        state[key] = ev
    return state


def op_redact(req: Request) -> Result:
    from synapse.synapse_rust.events import redact_event_dict

    rv = room_version(req)
    event = event_field(req, "event", rv)
    try:
        redacted = redact_event_dict(rv, event)
    except Exception as e:  # no type or content, an event that cannot be held
        raise Refused("M_BAD_JSON", describe(e)) from None
    # Synapse keeps unsigned.age_ts and unsigned.replaces_state (its own
    # bookkeeping); the spec removes unsigned, and so does the protocol.
    redacted.pop("unsigned", None)
    return {"redacted": redacted}


def op_content_hash(req: Request) -> Result:
    from synapse.crypto.event_signing import compute_content_hash

    rv = room_version(req)
    event = event_field(req, "event", rv)
    try:
        _, digest = compute_content_hash(event, hashlib.sha256)
    except Exception as e:  # the event cannot be encoded
        raise Refused("M_BAD_JSON", describe(e)) from None
    return {"hash": encode_base64(digest)}


def op_reference_hash(req: Request) -> Result:
    from synapse.crypto.event_signing import compute_event_reference_hash

    rv = room_version(req)
    event = make_event(event_field(req, "event", rv), rv)
    try:
        _, digest = compute_event_reference_hash(event, hashlib.sha256)
    except Exception as e:
        raise Refused("M_BAD_JSON", describe(e)) from None
    return {"hash": encode_base64(digest)}


def op_event_id(req: Request) -> Result:
    rv = room_version(req)
    return {"event_id": make_event(event_field(req, "event", rv), rv).event_id}


def op_room_id(req: Request) -> Result:
    rv = room_version(req)
    create = event_field(req, "create_event", rv)
    # The op asks about a create event: Event.room_id of any other event is
    # just its room_id field.
    if create.get("type") != "m.room.create" or create.get("state_key") != "":
        raise Refused("M_BAD_JSON", 'Not a create event: type must be m.room.create with state_key ""')
    # v12 (msc4291_room_ids_as_hashes): derived by the Rust Event from the
    # create event's ID ("!" + the event ID without its "$"); before, the
    # create event's own room_id.
    return {"room_id": make_event(create, rv).room_id}


def op_sign_event(req: Request) -> Result:
    from synapse.crypto.event_signing import add_hashes_and_signatures

    rv = room_version(req)
    event = copy.deepcopy(event_field(req, "event", rv))
    server_name = string(req, "server_name")
    key = signing_key(req, string(req, "key_id"))
    # add_hashes_and_signatures fails with TypeError/AttributeError on a
    # `hashes` that is not an object (setdefault(...)[name] = ...), and the
    # same from signedjson's sign_json on a `signatures` member it cannot add
    # to. Told apart here so that the latter gets the errcode sign_json gets.
    hashes_ok = isinstance(event.get("hashes", {}), dict)
    try:
        add_hashes_and_signatures(rv, event, server_name, key)
    except (AttributeError, TypeError) as e:
        raise Refused("M_INVALID_PARAM" if hashes_ok else "M_BAD_JSON", describe(e)) from None
    except Exception as e:  # no type or content, an event that cannot be encoded
        raise Refused("M_BAD_JSON", describe(e)) from None
    return {"event": event}


# verify_event: Synapse's real Keyring, with the request's keys served by a
# KeyFetcher, on a homeserver stand-in that has just what the Keyring uses.

_FOREVER = 2**63  # what Synapse uses for keys without an expiry (its own)


class _OracleHomeServer:
    """What Keyring, KeyFetcher and BatchingQueue use of a HomeServer: a
    name, a clock on a reactor the oracle steps by hand, background
    processes, and no keys of its own (the oracle is no server)."""

    hostname = "oracle.invalid"

    def __init__(self) -> None:
        from signedjson.key import generate_signing_key
        from twisted.internet.testing import MemoryReactorClock

        from synapse.util.clock import Clock

        self.reactor = MemoryReactorClock()
        self.clock = Clock(self.reactor, self.hostname)  # type: ignore[arg-type]
        self.signing_key = generate_signing_key("oracle")
        self.config = SimpleNamespace(key=SimpleNamespace(old_signing_keys={}, key_servers=[]))

    def get_clock(self) -> Any:
        return self.clock

    def is_mine_server_name(self, server_name: str) -> bool:
        return False

    def run_as_background_process(self, desc: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        from synapse.metrics.background_process_metrics import run_as_background_process

        return run_as_background_process(desc, self.hostname, func, *args, **kwargs)  # type: ignore[arg-type]


_keyring_parts: Optional[SimpleNamespace] = None


def keyring() -> SimpleNamespace:
    """One Keyring for the whole run; its fetcher serves the current
    request's keys (the Keyring itself caches nothing)."""
    global _keyring_parts
    if _keyring_parts is None:
        from synapse.crypto.keyring import Keyring, KeyFetcher

        class RequestKeyFetcher(KeyFetcher):
            keys: Dict[str, Dict[str, Any]] = {}

            async def _fetch_keys(self, keys_to_fetch: List[Any]) -> Dict[str, Dict[str, Any]]:
                found: Dict[str, Dict[str, Any]] = {}
                for request in keys_to_fetch:
                    for key_id in request.key_ids:
                        result = self.keys.get(request.server_name, {}).get(key_id)
                        if result is not None:
                            found.setdefault(request.server_name, {})[key_id] = result
                return found

        hs = _OracleHomeServer()
        fetcher = RequestKeyFetcher(hs)  # type: ignore[arg-type]
        _keyring_parts = SimpleNamespace(
            hs=hs, fetcher=fetcher, keyring=Keyring(hs, test_only_key_fetchers=[fetcher])  # type: ignore[arg-type]
        )
    return _keyring_parts


def run_to_completion(parts: SimpleNamespace, coroutine: Any) -> Any:
    """Runs a Synapse coroutine on the oracle's reactor, stepping its clock
    (the Keyring's batching queue waits a reactor tick)."""
    from twisted.internet import defer

    d = defer.ensureDeferred(coroutine)
    for _ in range(10000):
        if d.called:
            break
        parts.hs.reactor.advance(0)
    outcome: List[Any] = []
    d.addBoth(outcome.append)
    if not outcome:
        raise RuntimeError("A Synapse coroutine did not complete")
    result = outcome[0]
    if hasattr(result, "raiseException"):  # a twisted Failure
        result.raiseException()
    return result


def keys_field(req: Request) -> Dict[str, Dict[str, Any]]:
    """The request's keys as the FetchKeyResults a key fetcher returns.

    A bare key is valid forever. Every entry must be a well-formed key (a
    malformed one is a bad request, M_INVALID_PARAM); entries under key IDs
    of algorithms signedjson does not support are then left out, as
    Synapse's key fetchers do (BaseV2KeyFetcher.process_v2_response)."""
    from signedjson.key import is_signing_algorithm_supported

    from synapse.storage.keys import FetchKeyResult

    keys = obj(req, "keys")
    out: Dict[str, Dict[str, Any]] = {}
    for server, by_id in keys.items():
        if not isinstance(by_id, dict):
            raise Refused("M_INVALID_PARAM", f'"keys" of {server} is not an object')
        for key_id, entry in by_id.items():
            b64 = entry.get("key") if isinstance(entry, dict) else entry
            until = entry.get("valid_until_ts", _FOREVER) if isinstance(entry, dict) else _FOREVER
            if not isinstance(b64, str) or isinstance(until, bool) or not isinstance(until, (int, float)):
                raise Refused("M_INVALID_PARAM", f"Malformed key {key_id} of {server} in \"keys\"")
            try:
                raw = decode_base64(b64)
            except Exception as e:
                raise Refused("M_INVALID_PARAM", f"Key {key_id} of {server}: {describe(e)}") from None
            if len(raw) != 32:
                raise Refused("M_INVALID_PARAM", f"Key {key_id} of {server} is not 32 bytes")
            if not is_signing_algorithm_supported(key_id):
                continue
            try:
                verify_key_ = decode_verify_key_bytes(key_id, raw)
            except Exception as e:
                raise Refused("M_INVALID_PARAM", f"Key {key_id} of {server}: {describe(e)}") from None
            out.setdefault(server, {})[key_id] = FetchKeyResult(verify_key=verify_key_, valid_until_ts=until)
    return out


def op_verify_event(req: Request) -> Result:
    from synapse.crypto.event_signing import check_event_content_hash
    from synapse.federation.federation_base import _check_sigs_on_pdu

    rv = room_version(req)
    obj(req, "keys")
    event = obj(req, "event")
    keys = keys_field(req)
    try:
        event_field(req, "event", rv)  # v6+: as event_from_pdu_json would
        pdu = make_event(event, rv)
    except Refused as r:
        return {"result": "invalid", "reason": f"Synapse cannot take the event: {r.message}"}
    parts = keyring()
    parts.fetcher.keys = keys
    try:
        # FederationBase._check_sigs_and_hash: the signatures, then the content hash.
        run_to_completion(parts, _check_sigs_on_pdu(parts.keyring, rv, pdu))
        if not check_event_content_hash(pdu):
            return {"result": "redacted", "reason": "The content hash does not match: Synapse uses the redacted event"}
    except Exception as e:
        return {"result": "invalid", "reason": describe(e)}
    finally:
        parts.fetcher.keys = {}
    return {"result": "valid", "reason": ""}


def op_check_pdu_format(req: Request) -> Result:
    from synapse.event_auth import validate_event_for_room_version
    from synapse.federation.federation_base import event_from_pdu_json
    from synapse.handlers.federation_event import FederationEventHandler

    rv = room_version(req)
    pdu_json = copy.deepcopy(obj(req, "event"))
    try:
        # FederationServer._handle_incoming_transaction (and FederationClient
        # for pulled events): required keys, unsigned, depth, Canonical JSON
        # for strict versions, the MSC4291 auth_events rule, the Rust parser.
        # No received_time, as for pulled events: `unsigned.age` is dropped
        # (on /send Synapse writes receive time - age to unsigned.age_ts,
        # which then counts towards the size limit).
        pdu = event_from_pdu_json(pdu_json, rv)
        # FederationEventHandler.on_receive_pdu / _process_pulled_event:
        # at most 20 prev_events and 10 auth_events. (A method that uses
        # nothing of its handler.)
        FederationEventHandler._sanity_check_event(None, pdu)  # type: ignore[arg-type]
        # FederationEventHandler._check_event_auth: size limits and the
        # signatures that must be present.
        validate_event_for_room_version(pdu)
    except Exception as e:
        return {"valid": False, "reason": cause(e)}
    return {"valid": True, "reason": ""}


def op_auth_types(req: Request) -> Result:
    from synapse.event_auth import auth_types_for_event

    rv = room_version(req)
    event = make_event(event_field(req, "event", rv), rv)
    try:
        types = auth_types_for_event(rv, event)
    except Exception as e:  # no membership; a third-party invite without signed.token
        raise Refused("M_BAD_JSON", describe(e)) from None
    # Glue, not Synapse code: in v12 (MSC4291) the create event is implied by
    # the room ID, and Synapse leaves it out of the auth events it builds and
    # refuses it in received ones, though this function still names it.
    if rv.msc4291_room_ids_as_hashes:
        types.discard(("m.room.create", ""))
    # State keys are strings; a token or authorising user that is not one
    # cannot name a state event.
    if any(not isinstance(k, str) for _, k in types):
        raise Refused("M_BAD_JSON", "a state key to select is not a string")
    return {"types": sorted([list(t) for t in types])}


def run_now(coroutine: Any) -> Any:
    """Runs a coroutine that never waits (its storage stand-in answers at
    once), so no reactor is needed, unlike the Keyring's run_to_completion."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the coroutine waited on something")


OPS: Dict[str, Callable[[Request], Result]] = {
    "canonical_json": op_canonical_json,
    "public_key": op_public_key,
    "sign_json": op_sign_json,
    "verify_json": op_verify_json,
    "redact": op_redact,
    "content_hash": op_content_hash,
    "reference_hash": op_reference_hash,
    "event_id": op_event_id,
    "room_id": op_room_id,
    "sign_event": op_sign_event,
    "verify_event": op_verify_event,
    "check_pdu_format": op_check_pdu_format,
    "auth_types": op_auth_types,
}

# The auth and visibility ops live in their own modules, which import their
# helpers from this one: run as a script, this module is __main__, so name it.
sys.modules.setdefault("oracle", sys.modules[__name__])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auth_ops  # noqa: E402
import visibility_ops  # noqa: E402
import xmatrix_ops  # noqa: E402
import key_ops  # noqa: E402
import stateres_ops  # noqa: E402

OPS.update(auth_ops.OPS)
OPS.update(visibility_ops.OPS)
OPS.update(xmatrix_ops.OPS)
OPS.update(key_ops.OPS)
OPS.update(stateres_ops.OPS)


# The protocol.


def error(id_: Any, code: str, message: str) -> Result:
    return {"id": id_, "ok": False, "error": {"code": code, "message": message}}


def dump(answer: Result) -> str:
    # ASCII output, so unpaired surrogates travel as \uXXXX escapes.
    # A result or id that JSON cannot carry (inf from 1e400, nesting past the
    # recursion limit) is a value the request should not have held.
    why = "The answer cannot be written as JSON: the request holds inf or nests too deep"
    fallbacks = [answer, error(answer.get("id"), "M_BAD_JSON", why), error(None, "M_BAD_JSON", why)]
    for a in fallbacks:
        try:
            return json.dumps(a, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        except Exception:
            continue
    raise AssertionError("unreachable")


def answer_line(line: bytes) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        return dump(error(None, "M_NOT_JSON", describe(e)))
    try:
        req = json_decoder.decode(text)
    except Exception as e:
        return dump(error(None, decode_error_code(e), describe(e)))
    id_ = req.get("id") if isinstance(req, dict) else None
    try:
        if not isinstance(req, dict):
            raise Refused("M_BAD_JSON", "A request must be a JSON object")
        op = req.get("op")
        if not isinstance(op, str):
            raise Refused("M_MISSING_PARAM", 'Missing string field "op"')
        fn = OPS.get(op)
        if fn is None:
            raise Refused("M_UNRECOGNIZED", f"Unknown op {op!r}")
        return dump({"id": id_, "ok": True, **fn(req)})
    except Refused as r:
        return dump(error(id_, r.code, r.message))
    except Exception as e:  # a bug in the oracle: reported, not fatal
        return dump(error(id_, "M_UNKNOWN", f"Internal error: {describe(e)}"))


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout
    try:
        for raw in iter(stdin.readline, b""):
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if line.endswith(b"\r"):
                line = line[:-1]
            stdout.write(answer_line(line) + "\n")
            stdout.flush()
    except BrokenPipeError:
        # The reader went away: nothing more to say, and nothing to flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
