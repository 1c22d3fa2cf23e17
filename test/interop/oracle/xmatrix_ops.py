"""Oracle ops for X-Matrix request authentication: parse_x_matrix,
sign_request, verify_request (see README.md).

- parse_x_matrix: Synapse's own parser of the Authorization header,
  synapse.federation.transport.server._base._parse_auth_header.
- sign_request: Synapse's own request signing,
  MatrixFederationHttpClient.build_auth_headers, called on a stand-in client
  that holds just what the method reads (the server name and signing key).
- verify_request: Synapse's own Authenticator.authenticate_request (which
  calls _parse_auth_header for each X-Matrix header and the Keyring to check
  the signature), on an Authenticator stand-in built without a homeserver,
  with the oracle's Keyring serving the request's keys.

The header values are passed through what Twisted's HTTP server does to a
header line before Synapse sees it (glue, see _http_field), so that the op
answers for the header as it would arrive over HTTP.

Everything here is glue: it reads the request, builds the stand-ins and maps
the outcome. Synapse raises one AuthenticationError (HTTP 400, "Malformed
Authorization header") for every header it cannot parse; the glue tells a
missing parameter (a KeyError under it: M_MISSING_PARAM) from any other
failure (M_INVALID_PARAM).
"""

import re
import time
from types import SimpleNamespace
from typing import Any, Callable, Dict, List

from oracle import (
    Refused,
    Request,
    Result,
    canonical,
    describe,
    keyring,
    keys_field,
    obj,
    run_to_completion,
    signing_key,
    string,
)

# Twisted's HTTPChannel refuses a request whose header block passes
# totalHeadersSize (16384 bytes): no longer Authorization value reaches
# Synapse. Glue: the cap is applied to the value alone.
_MAX_HEADER_BYTES = 16384

# The spec's key ID grammar (server-server API, "Retrieving server keys").
# Glue, as in key_ops: Synapse signs with whatever version its config holds;
# the op signs only with key IDs the spec allows.
_KEY_ID = re.compile(r"ed25519:[a-zA-Z0-9_]+\Z")

_ABSENT = object()


def _http_field(value: str) -> bytes:
    """The header value as Synapse receives it: UTF-8 bytes (a string that
    UTF-8 cannot encode cannot have been received), within Twisted's size
    limit, with the spaces and tabs around it stripped and NUL, CR and LF
    refused, as twisted.web.http.HTTPChannel.headerReceived does."""
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise Refused("M_INVALID_PARAM", f"The header cannot be encoded: {describe(e)}") from None
    if len(raw) > _MAX_HEADER_BYTES:
        raise Refused("M_TOO_LARGE", f"The header is over {_MAX_HEADER_BYTES} bytes")
    raw = raw.strip(b" \t")
    if len(raw.translate(None, b"\x00\r\n")) != len(raw):
        raise Refused("M_INVALID_PARAM", "The header holds NUL, CR or LF")
    return raw


def _malformed(e: BaseException) -> Refused:
    """The errcode for Synapse's "Malformed Authorization header"."""
    inner = e.__context__
    code = "M_MISSING_PARAM" if isinstance(inner, KeyError) else "M_INVALID_PARAM"
    return Refused(code, f"{describe(e)}: {describe(inner) if inner is not None else ''}")


def _is_malformed_header(e: BaseException) -> bool:
    from synapse.federation.transport.server._base import AuthenticationError

    return isinstance(e, AuthenticationError) and e.code == 400


def _server_name(req: Request, name: str) -> str:
    """A field holding a server name, checked with Synapse's own
    parse_and_validate_server_name (as Synapse checks its own server_name
    when it reads its config). Glue: Synapse does not check destinations
    before signing requests to them; the op signs only to server names."""
    from synapse.util.stringutils import parse_and_validate_server_name

    value = string(req, name)
    try:
        parse_and_validate_server_name(value)
    except Exception as e:
        raise Refused("M_INVALID_PARAM", f'Field "{name}": {describe(e)}') from None
    return value


def _content(req: Request) -> Any:
    """The optional parsed body: any JSON value; null is no body (Synapse
    signs `content` only when it is not None). A body that cannot be encoded
    as Canonical JSON (unpaired surrogates, inf) is M_BAD_JSON."""
    content = req.get("content")
    if content is not None:
        canonical(content)
    return content


def _utf8(req: Request, name: str) -> bytes:
    """A string field as the bytes Synapse takes: it decodes them as ASCII,
    and so refuses anything else (unpaired surrogates are passed through to
    be refused there too)."""
    return string(req, name).encode("utf-8", "surrogatepass")


def op_parse_x_matrix(req: Request) -> Result:
    from synapse.federation.transport.server._base import _parse_auth_header

    raw = _http_field(string(req, "header"))
    try:
        origin, key, sig, destination = _parse_auth_header(raw)
    except Exception as e:
        if _is_malformed_header(e):
            raise _malformed(e) from None
        raise
    return {"origin": origin, "destination": destination, "key": key, "sig": sig}


def op_sign_request(req: Request) -> Result:
    from synapse.http.matrixfederationclient import MatrixFederationHttpClient

    method = _utf8(req, "method")
    uri = _utf8(req, "uri")
    origin = string(req, "origin")
    destination = string(req, "destination")
    key_id = string(req, "key_id")
    string(req, "seed")
    _server_name(req, "origin")
    _server_name(req, "destination")
    if not _KEY_ID.match(key_id):
        raise Refused("M_INVALID_PARAM", f"Key ID {key_id!r} is not ed25519: followed by [a-zA-Z0-9_]+")
    key = signing_key(req, key_id)
    content = req.get("content")  # null is no body, as for Synapse
    client = SimpleNamespace(server_name=origin, signing_key=key)
    try:
        headers = MatrixFederationHttpClient.build_auth_headers(
            client,  # type: ignore[arg-type]
            destination.encode("ascii"),
            method,
            uri,
            content,
        )
    except UnicodeDecodeError as e:  # a method or URI that is not ASCII
        raise Refused("M_INVALID_PARAM", describe(e)) from None
    except Exception as e:  # a body Canonical JSON cannot encode (surrogates, inf)
        raise Refused("M_BAD_JSON", describe(e)) from None
    if len(headers) != 1:
        raise AssertionError(f"{len(headers)} headers for one key")
    return {"authorization": headers[0].decode("ascii")}


def _authorization(req: Request) -> List[str]:
    """One Authorization header value or a list of them, in order."""
    v = req.get("authorization", _ABSENT)
    if v is _ABSENT:
        raise Refused("M_MISSING_PARAM", 'Missing field "authorization"')
    values = [v] if isinstance(v, str) else v
    if not isinstance(values, list) or not all(isinstance(h, str) for h in values):
        raise Refused("M_INVALID_PARAM", 'Field "authorization" must be a string or a list of strings')
    return values


def _now_ts(req: Request) -> int:
    v = req.get("now_ts", _ABSENT)
    if v is _ABSENT:
        return int(time.time() * 1000)
    if type(v) is not int:
        raise Refused("M_INVALID_PARAM", 'Field "now_ts" must be an integer')
    return v


class _RetryStore:
    """The one store method authenticate_request calls: no retry timings."""

    async def get_destination_retry_timings(self, destination: str) -> None:
        return None


def _authenticator(parts: SimpleNamespace, server_name: str, now_ts: int) -> Any:
    """Synapse's Authenticator with the attributes authenticate_request
    reads, set without a HomeServer: our server name, a clock at now_ts, the
    oracle's Keyring, no federation whitelist, no retry timings."""
    from synapse.federation.transport.server._base import Authenticator

    a = Authenticator.__new__(Authenticator)
    a._clock = SimpleNamespace(time_msec=lambda: now_ts)
    a.keyring = parts.keyring
    a.server_name = server_name
    a._is_mine_server_name = lambda name: name == server_name
    a.store = _RetryStore()
    a.federation_domain_whitelist = None
    a.notifier = None
    a.replication_client = None
    return a


def op_verify_request(req: Request) -> Result:
    from twisted.web.http_headers import Headers

    # The order of the checks (shared with ours): fields, our server name,
    # the keys, each header as HTTP delivers it, the body, then Synapse.
    method = _utf8(req, "method")
    uri = _utf8(req, "uri")
    string(req, "destination")
    values = _authorization(req)
    obj(req, "keys")
    now_ts = _now_ts(req)
    destination = _server_name(req, "destination")
    keys = keys_field(req)
    headers = [_http_field(h) for h in values]
    content = _content(req)

    request = SimpleNamespace(method=method, uri=uri, requestHeaders=Headers(), requester=None)
    if headers:
        request.requestHeaders.setRawHeaders(b"Authorization", headers)
    parts = keyring()
    parts.fetcher.keys = keys
    try:
        origin = run_to_completion(parts, _authenticator(parts, destination, now_ts).authenticate_request(request, content))
    except UnicodeDecodeError as e:  # a method or URI that is not ASCII
        raise Refused("M_INVALID_PARAM", describe(e)) from None
    except Exception as e:
        if _is_malformed_header(e):
            raise _malformed(e) from None
        # 401s (no X-Matrix header, another destination, no usable key, a
        # bad signature) and the keyring's 400 "Not signed by": refused.
        return {"valid": False, "origin": None, "reason": describe(e)}
    finally:
        parts.fetcher.keys = {}
    return {"valid": True, "origin": origin}


OPS: Dict[str, Callable[[Request], Result]] = {
    "parse_x_matrix": op_parse_x_matrix,
    "sign_request": op_sign_request,
    "verify_request": op_verify_request,
}
