"""``call: openapi``: an operation of an OpenAPI (2.0 or 3.x) document, called over HTTP.

The document is fetched once per run environment and its operations indexed by
``operationId``; each call maps ``parameters`` onto the operation's path, query, header and
body parameters, then goes through the same exchange as ``call: http`` (errors, outputs,
deadlines, observers, authentication).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from baton.dsl import DocumentError, LoadLimits, read_documents
from baton.engine._state import RunState, Scope
from baton.engine.errors import CommunicationError, ConfigurationError, ValidationFault
from baton.engine.http.transport import TransportError
from baton.engine.tasks.call_http import AuthPolicy, HttpExchangeNode, exchange
from baton.expressions import ValueTemplate

__all__ = ["CallOpenApiNode", "Operation", "find_operation"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    location: str  # path, query, header, cookie, body, formData
    required: bool


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    base: str
    path: str
    parameters: tuple[_Parameter, ...]
    has_body: bool


def _resolve(document: Mapping[str, Any], item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("$ref"), str) and item["$ref"].startswith("#/"):
        target: Any = document
        for part in item["$ref"][2:].split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
            )
        return target
    return item


def _base_url(document: Mapping[str, Any], source: str) -> str:
    if "swagger" in document:
        origin = urlsplit(source)
        schemes = document.get("schemes") or [origin.scheme or "https"]
        scheme = "https" if "https" in schemes else str(schemes[0])
        if origin.scheme in schemes:
            scheme = origin.scheme
        host = document.get("host") or origin.netloc
        return f"{scheme}://{host}{document.get('basePath') or ''}".rstrip("/")
    servers = document.get("servers") or [{"url": "/"}]
    server: dict[str, Any] = servers[0] if isinstance(servers[0], dict) else {"url": "/"}
    url = str(server.get("url") or "/")
    for name, variable in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
    return urljoin(source, url).rstrip("/")


def find_operation(document: Mapping[str, Any], operation_id: str, *, source: str) -> Operation:
    """The operation named ``operation_id``; raises ``ConfigurationError`` when it is absent."""
    for path, item in (document.get("paths") or {}).items():
        item = _resolve(document, item)
        if not isinstance(item, dict):
            continue
        shared = [_resolve(document, p) for p in item.get("parameters") or []]
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict) or operation.get("operationId") != operation_id:
                continue
            own = [_resolve(document, p) for p in operation.get("parameters") or []]
            merged: dict[tuple[str, str], _Parameter] = {}
            for parameter in [*shared, *own]:
                if isinstance(parameter, dict) and "name" in parameter:
                    location = str(parameter.get("in", "query"))
                    merged[(str(parameter["name"]), location)] = _Parameter(
                        str(parameter["name"]),
                        location,
                        bool(parameter.get("required") or location == "path"),
                    )
            return Operation(
                method=method.upper(),
                base=_base_url(document, source),
                path=str(path),
                parameters=tuple(merged.values()),
                has_body="requestBody" in operation or any(p.location == "body" for p in merged.values()),
            )
    raise ConfigurationError(f"the OpenAPI document at {source} has no operation {operation_id!r}")


class CallOpenApiNode(HttpExchangeNode):
    __slots__ = ("document_auth", "document_uri", "operation_id", "parameters")

    def __init__(
        self,
        *,
        document_uri: str,
        document_auth: AuthPolicy | None,
        operation_id: str,
        parameters: ValueTemplate | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.document_uri = document_uri
        self.document_auth = document_auth
        self.operation_id = operation_id
        self.parameters = parameters

    async def _operation(self, state: RunState, scope: Scope) -> Operation:
        env = state.env
        key = (self.document_uri, self.operation_id)
        operation = env.openapi_operations.get(key)
        if operation is None:
            document = env.openapi_documents.get(self.document_uri)
            if document is None:
                document = env.openapi_documents[self.document_uri] = await _fetch_document(
                    self, state, scope
                )
            operation = find_operation(document, self.operation_id, source=self.document_uri)
            env.openapi_operations[key] = operation
        return operation

    async def execute(self, state: RunState, input: Any, scope: Scope) -> Any:
        operation = await self._operation(state, scope)
        values = {} if self.parameters is None else self.parameters.render(input, scope)
        if not isinstance(values, dict):
            raise ValidationFault("openapi parameters must be an object of names to values")
        path = operation.path
        query: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        form: dict[str, Any] = {}
        body: Any = None
        for parameter in operation.parameters:
            value = values.get(parameter.name)
            if value is None:
                if parameter.required:
                    raise ValidationFault(
                        f"parameter {parameter.name!r} ({parameter.location}) is required by "
                        f"operation {self.operation_id!r}"
                    )
                continue
            if parameter.location == "path":
                path = path.replace("{" + parameter.name + "}", quote(_text(value), safe=""))
            elif parameter.location == "query":
                items = value if isinstance(value, list) else [value]
                query.extend((parameter.name, _text(item)) for item in items)
            elif parameter.location == "header":
                headers[parameter.name] = _text(value)
            elif parameter.location == "formData":
                form[parameter.name] = value
            elif parameter.location == "body":
                body = value
        if body is None and form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = form
        if body is None and operation.has_body:
            body = values.get("body")
        url = operation.base + path + (f"?{urlencode(query)}" if query else "")
        return await exchange(
            self, state, scope, method=operation.method, url=url, declared=headers, body=body
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, dict | list)
        else str(value)
    )


async def _fetch_document(node: CallOpenApiNode, state: RunState, scope: Scope) -> Mapping[str, Any]:
    headers = {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1"}
    if node.document_auth is not None:
        credentials = await node.document_auth.credentials(state, scope.input, scope)
        headers["Authorization"] = credentials.header
    try:
        response = await state.env.transport.request(
            "GET",
            node.document_uri,
            headers=headers,
            body=None,
            timeout=state.remaining(),
            follow_redirects=True,
            max_body=state.limits.max_payload_bytes,
        )
    except TransportError as exc:
        raise CommunicationError(
            f"OpenAPI document {node.document_uri}: {exc}", status=503, title="Service unreachable"
        ) from exc
    if not 200 <= response.status < 300:
        raise CommunicationError(
            f"OpenAPI document {node.document_uri} answered {response.status} {response.reason}".rstrip(),
            status=response.status,
            title=response.reason or "Unexpected HTTP status",
        )
    # The DSL's bounded reader (JSON, else YAML 1.2): an upstream's document may be hostile
    # (alias bombs, deep nesting) and must read as its YAML 1.2 author meant (``on`` is a string).
    try:
        found = read_documents(
            response.body, origin=node.document_uri, limits=LoadLimits(max_bytes=max(len(response.body), 1))
        )
    except DocumentError as exc:
        reason = exc.problems[0].message if exc.problems else "unreadable"
        raise ConfigurationError(
            f"OpenAPI document {node.document_uri} is not JSON or YAML: {reason}"
        ) from None
    document = found[0] if len(found) == 1 else None
    if not isinstance(document, dict) or not ("swagger" in document or "openapi" in document):
        raise ConfigurationError(f"{node.document_uri} is not an OpenAPI document")
    return document
