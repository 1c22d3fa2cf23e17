"""Oracle ops for server keys: server_keys, check_server_keys (see README.md).

- server_keys: what Synapse's key server resource
  (synapse.rest.key.v2.local_key_resource.LocalKey) serves at
  GET /_matrix/key/v2/server, built from a stand-in config holding the
  request's signing key and old keys (the old keys parsed by Synapse's own
  KeyConfig.read_old_signing_keys).
- check_server_keys: what Synapse's ServerKeyFetcher makes of a body fetched
  from GET /_matrix/key/v2/server (get_server_verify_keys_v2_direct, and
  through it BaseV2KeyFetcher.process_v2_response), with a stand-in HTTP
  client that returns the request's `response`, and a stand-in store.

Everything here is glue: it reads the request, builds the stand-ins and maps
the outcome. Where the glue decides something Synapse leaves to its
database or its config file, the comment says so.
"""

import copy
import re
from types import SimpleNamespace
from typing import Any, Callable, Dict, Optional

from signedjson.key import decode_signing_key_base64, encode_verify_key_base64

from oracle import (
    Refused,
    Request,
    Result,
    _OracleHomeServer,
    describe,
    field,
    obj,
    run_to_completion,
    string,
)

# The spec's key ID grammar (server-server API, "Retrieving server keys":
# the version matches [a-zA-Z0-9_]). Glue: Synapse's config reader takes any
# version without whitespace; we produce only what the spec allows.
_KEY_ID = re.compile(r"ed25519:[a-zA-Z0-9_]+\Z")

# Canonical JSON's integer range (spec: appendices, "Canonical JSON").
_SAFE = 2**53 - 1
# What the BIGINT columns of Synapse's key tables hold.
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _is_int(v: Any) -> bool:
    return type(v) is int  # no bool, no float


def _timestamp(req: Request, name: str) -> int:
    if name not in req:
        raise Refused("M_MISSING_PARAM", f'Missing field "{name}"')
    v = req[name]
    if not _is_int(v) or not -_SAFE <= v <= _SAFE:
        raise Refused("M_INVALID_PARAM", f'Field "{name}" must be an integer in Canonical JSON\'s range')
    return v


def _key_id(req: Request) -> str:
    key_id = string(req, "key_id")
    if not _KEY_ID.match(key_id):
        raise Refused("M_INVALID_PARAM", f"Key ID {key_id!r} is not ed25519: followed by [a-zA-Z0-9_]+")
    return key_id


def op_server_keys(req: Request) -> Result:
    from synapse.config.key import KeyConfig
    from synapse.rest.key.v2.local_key_resource import LocalKey

    server_name = string(req, "server_name")
    key_id = _key_id(req)
    _, _, version = key_id.partition(":")
    try:
        signing_key = decode_signing_key_base64("ed25519", version, string(req, "seed"))
    except Refused:
        raise
    except Exception as e:
        raise Refused("M_INVALID_PARAM", f"Bad signing key: {describe(e)}") from None
    valid_until_ts = _timestamp(req, "valid_until_ts")
    old = req.get("old_verify_keys")
    if "old_verify_keys" in req and not isinstance(old, dict):
        raise Refused("M_INVALID_PARAM", 'Field "old_verify_keys" must be an object')
    try:
        # Synapse's own reader of the old_signing_keys config option.
        old_keys = KeyConfig.read_old_signing_keys(None, copy.deepcopy(old))  # type: ignore[arg-type]
    except Exception as e:
        raise Refused("M_INVALID_PARAM", f"Bad old_verify_keys: {describe(e)}") from None
    for old_id, old_key in old_keys.items():
        # Glue, as for key_id and valid_until_ts: the spec's key ID grammar
        # and integer expiry times (Synapse's config reader takes any value).
        if not _KEY_ID.match(old_id):
            raise Refused("M_INVALID_PARAM", f"Old key ID {old_id!r} is not ed25519: followed by [a-zA-Z0-9_]+")
        if not _is_int(old_key.expired) or not -_SAFE <= old_key.expired <= _SAFE:
            raise Refused("M_INVALID_PARAM", f"expired_ts of {old_id} must be an integer in Canonical JSON's range")

    # LocalKey sets valid_until_ts to now + key_refresh_interval: a clock at
    # valid_until_ts - interval gives the request's value (and on_GET keeps
    # the body, as less than half the interval has passed).
    interval = 86400000
    now = valid_until_ts - interval
    hs = SimpleNamespace(
        config=SimpleNamespace(
            key=SimpleNamespace(signing_key=[signing_key], old_signing_keys=old_keys, key_refresh_interval=interval),
            server=SimpleNamespace(server_name=server_name),
        ),
        get_clock=lambda: SimpleNamespace(time_msec=lambda: now),
    )
    try:
        resource = LocalKey(hs)  # type: ignore[arg-type]
        _, body = resource.on_GET(None)  # type: ignore[arg-type]
    except Exception as e:  # the body cannot be encoded (unpaired surrogates)
        raise Refused("M_BAD_JSON", describe(e)) from None
    return {"response": body}


class _StoreStandIn:
    """What process_v2_response uses of Synapse's KeyStore.

    The real store_server_keys_response first encodes the whole signed
    response with canonicaljson's encode_canonical_json (to keep it for
    notary answers), which the stand-in calls too; then it writes each key's
    valid_until_ts to a BIGINT column. Glue: the stand-in refuses what that
    column cannot hold, a value that is not an integer or lies outside 64
    bits (Synapse types it as int; PostgreSQL refuses strings and booleans
    there, SQLite integers past 64 bits)."""

    async def store_server_keys_response(
        self, server_name: str, from_server: str, ts_added_ms: int, verify_keys: Dict[str, Any], response_json: Any
    ) -> None:
        from canonicaljson import encode_canonical_json

        encode_canonical_json(response_json)
        for key_id, result in verify_keys.items():
            ts = result.valid_until_ts
            if not _is_int(ts) or not _I64_MIN <= ts <= _I64_MAX:
                raise ValueError(f"valid_until_ts of {key_id} cannot be stored: {ts!r}")


class _KeysHomeServer(_OracleHomeServer):
    """The oracle's homeserver stand-in, plus what ServerKeyFetcher uses:
    a federation HTTP client and the datastore."""

    def __init__(self) -> None:
        super().__init__()
        self.response: Any = None
        self.store = _StoreStandIn()
        hs = self

        class Client:
            async def get_json(self, destination: str, path: str, **kwargs: Any) -> Any:
                assert path == "/_matrix/key/v2/server"
                return hs.response

        self.client = Client()

    def get_federation_http_client(self) -> Any:
        return self.client

    def get_datastores(self) -> Any:
        return SimpleNamespace(main=self.store)


_fetcher_parts: Optional[SimpleNamespace] = None


def _fetcher() -> SimpleNamespace:
    global _fetcher_parts
    if _fetcher_parts is None:
        from synapse.crypto.keyring import ServerKeyFetcher

        hs = _KeysHomeServer()
        _fetcher_parts = SimpleNamespace(hs=hs, fetcher=ServerKeyFetcher(hs))  # type: ignore[arg-type]
    return _fetcher_parts


def op_check_server_keys(req: Request) -> Result:
    server_name = string(req, "server_name")
    response = obj(req, "response")
    now_ts = field(req, "now_ts", int, "an integer")
    if isinstance(now_ts, bool):
        raise Refused("M_INVALID_PARAM", 'Field "now_ts" must be an integer')
    parts = _fetcher()
    parts.hs.response = copy.deepcopy(response)
    # The time the fetcher reads as "now" (time_added_ms).
    parts.fetcher.clock = SimpleNamespace(time_msec=lambda: now_ts)
    try:
        keys = run_to_completion(parts, parts.fetcher.get_server_verify_keys_v2_direct(server_name))
    except Exception as e:
        # KeyLookupError, SignatureVerifyException, and whatever a malformed
        # body raises (KeyError, TypeError, AttributeError, ValueError...):
        # ServerKeyFetcher takes no keys from the response.
        return {"valid": False, "verify_keys": {}, "reason": describe(e)}
    finally:
        parts.hs.response = None
    return {
        "valid": True,
        "verify_keys": {
            key_id: {"key": encode_verify_key_base64(r.verify_key), "valid_until_ts": r.valid_until_ts}
            for key_id, r in keys.items()
        },
        "reason": "",
    }


OPS: Dict[str, Callable[[Request], Result]] = {
    "server_keys": op_server_keys,
    "check_server_keys": op_check_server_keys,
}
