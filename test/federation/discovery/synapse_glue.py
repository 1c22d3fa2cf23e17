"""Glue for the server-discovery differential tests: answers JSON request
lines by calling Synapse's own code (installed from PyPI in the oracle venv,
test/interop/oracle/.venv), never a copy of it.

  {"op": "cache_period", "headers": [[name, value], ...], "now": seconds}
      -> {"ok": true, "period": number | null}
      synapse.http.federation.well_known_resolver._cache_period_from_headers
      (Cache-Control, then Expires through Twisted's stringToDatetime)
  {"op": "sort_srv", "records": [{"priority": p, "weight": w}, ...], "random": [floats]}
      -> {"ok": true, "order": [indexes]}
      synapse.http.federation.srv_resolver._sort_server_list, with random.randint
      and random.shuffle drawing from the given floats the same way our
      orderSrvRecords draws from its random() (a + floor(r * (b - a + 1));
      Fisher-Yates), so both make the same choices.
  {"op": "resolve_server", "server_name": "host[:port]"}
      -> {"ok": true, "servers": [[host, port], ...]}
      synapse.http.federation.matrix_federation_agent.MatrixHostnameEndpoint
      ._resolve_server for matrix-federation://<server_name>/ (the URI the agent
      builds for a server name, or for the m.server a well-known delegates to),
      with no SRV records: where Synapse connects.

A Python exception is answered {"ok": false, "error": "<its class name>"}.
"""

import json
import random
import sys

from twisted.internet import defer
from twisted.web.client import URI
from twisted.web.http_headers import Headers

from synapse.http.federation import srv_resolver
from synapse.http.federation.matrix_federation_agent import MatrixHostnameEndpoint
from synapse.http.federation.well_known_resolver import _cache_period_from_headers


def cache_period(req):
    headers = Headers()
    for name, value in req["headers"]:
        headers.addRawHeader(name.encode("latin-1"), value.encode("latin-1"))
    return {"period": _cache_period_from_headers(headers, time_now=lambda: req["now"])}


def sort_srv(req):
    floats = iter(req["random"])

    def randint(a, b):
        return a + min(b - a, int(next(floats) * (b - a + 1)))

    def shuffle(x):
        for i in reversed(range(1, len(x))):
            j = min(i, int(next(floats) * (i + 1)))
            x[i], x[j] = x[j], x[i]

    random.randint = randint
    random.shuffle = shuffle
    servers = [
        srv_resolver.Server(host=str(i).encode(), port=1, priority=r["priority"], weight=r["weight"])
        for i, r in enumerate(req["records"])
    ]
    return {"order": [int(s.host) for s in srv_resolver._sort_server_list(servers)]}


class _NoSrvRecords:
    async def resolve_service(self, name):
        return []


def resolve_server(req):
    endpoint = MatrixHostnameEndpoint(
        reactor=None,
        proxy_reactor=None,
        tls_client_options_factory=None,
        srv_resolver=_NoSrvRecords(),
        proxy_config=None,
        parsed_uri=URI.fromBytes(f"matrix-federation://{req['server_name']}/".encode("ascii")),
    )
    # Nothing here waits on the reactor: the Deferred has fired when ensureDeferred returns.
    result = []
    defer.ensureDeferred(endpoint._resolve_server()).addBoth(result.append)
    servers = result[0]
    if not isinstance(servers, list):
        servers.raiseException()
    return {"servers": [[s.host.decode("ascii"), s.port] for s in servers]}


OPS = {"cache_period": cache_period, "sort_srv": sort_srv, "resolve_server": resolve_server}

for line in sys.stdin:
    try:
        request = json.loads(line)
        answer = {"ok": True, **OPS[request["op"]](request)}
    except Exception as e:  # noqa: BLE001 - the class name is the answer
        answer = {"ok": False, "error": type(e).__name__}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
