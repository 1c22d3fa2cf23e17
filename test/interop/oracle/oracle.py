"""The Synapse oracle: answers the conformance protocol (shared CONFORMANCE.md)
by calling Synapse's own code and the libraries Synapse uses on the
federation path, so that matrix-serverlib's answers can be diffed against it.

Reads request lines from stdin and writes one answer line per request, in
order, flushing after each. Never dies on bad input; exits 0 at end of input.

Synapse is called, never copied: everything below is glue.
"""

import json
import os
import sys
from types import TracebackType
from typing import Any, Callable, Dict, Optional

from canonicaljson import encode_canonical_json
from signedjson.key import (
    decode_signing_key_base64,
    decode_verify_key_bytes,
    encode_verify_key_base64,
    get_verify_key,
)
from signedjson.sign import SignatureVerifyException, sign_json, verify_signed_json
from unpaddedbase64 import decode_base64

from synapse.api.errors import SynapseError
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.events.utils import validate_canonicaljson
from synapse.util.json import json_decoder

# A stock Synapse runs with the interpreter's defaults; don't let the
# environment (PYTHONINTMAXSTRDIGITS) change what the oracle accepts.
sys.set_int_max_str_digits(sys.int_info.default_max_str_digits)

Request = Dict[str, Any]
Result = Dict[str, Any]


class Refused(Exception):
    """The input was rejected: answered with ok false and this errcode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


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


OPS: Dict[str, Callable[[Request], Result]] = {
    "canonical_json": op_canonical_json,
    "public_key": op_public_key,
    "sign_json": op_sign_json,
    "verify_json": op_verify_json,
}


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
