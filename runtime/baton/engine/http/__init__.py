"""HTTP for ``call: http``: a pluggable transport and the spec's authentication schemes."""

from baton.engine.http.client import Http1Transport
from baton.engine.http.transport import AiohttpTransport, HttpResponse, HttpTransport, TransportError

__all__ = ["AiohttpTransport", "Http1Transport", "HttpResponse", "HttpTransport", "TransportError"]
