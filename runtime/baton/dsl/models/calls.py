"""``call`` tasks: HTTP, gRPC, OpenAPI, AsyncAPI, A2A, MCP and custom functions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from baton.dsl.models._base import Model, OpenModel, RuntimeExpression, checked
from baton.dsl.models.authentication import ReferenceableAuthenticationPolicy
from baton.dsl.models.durations import Duration
from baton.dsl.models.endpoints import Endpoint, ExternalResource
from baton.dsl.models.task_base import TaskBase

if TYPE_CHECKING:
    from baton.dsl.models.tasks import SubscriptionIterator

__all__ = [
    "CALL_PROTOCOLS",
    "A2AArguments",
    "AsyncApiArguments",
    "AsyncApiConsumptionPolicy",
    "AsyncApiMessage",
    "AsyncApiServer",
    "AsyncApiSubscription",
    "CallA2A",
    "CallAsyncApi",
    "CallFunction",
    "CallGrpc",
    "CallHttp",
    "CallMcp",
    "CallOpenApi",
    "GrpcArguments",
    "GrpcService",
    "HttpArguments",
    "McpArguments",
    "McpClient",
    "McpHttpTransport",
    "McpStdioTransport",
    "McpTransport",
    "OpenApiArguments",
]

#: ``call`` values naming a protocol; any other value names a function.
CALL_PROTOCOLS = ("asyncapi", "grpc", "http", "openapi", "a2a", "mcp")

HttpOutput = Literal["raw", "content", "response"]


def _map_or_expression(value: Any) -> str | None:
    if isinstance(value, str):
        return "<expression>"
    if isinstance(value, dict):
        return "<map>"
    return None


def _object_or_text(value: Any) -> str | None:
    if isinstance(value, str):
        return "<text>"
    if isinstance(value, dict):
        return "<object>"
    return None


#: Method parameters: a mapping, or text (an expression producing them).
Parameters = Annotated[
    Annotated[dict[str, Any], Tag("<object>")] | Annotated[str, Tag("<text>")],
    Discriminator(
        _object_or_text,
        custom_error_type="parameters",
        custom_error_message="must be a mapping of parameters, or a runtime expression",
    ),
]

#: Headers or query parameters: a name/value mapping, or one runtime expression producing it.
StringMapOrExpression = Annotated[
    Annotated[dict[str, str], Tag("<map>")] | Annotated[RuntimeExpression, Tag("<expression>")],
    Discriminator(
        _map_or_expression,
        custom_error_type="string_map",
        custom_error_message="must be a mapping of names to strings, or a runtime expression",
    ),
]


class HttpArguments(Model):
    method: str
    endpoint: Endpoint
    headers: StringMapOrExpression | None = None
    body: Any = None
    query: StringMapOrExpression | None = None
    output: HttpOutput | None = None
    #: Whether 3xx responses are followed rather than treated as errors.
    redirect: bool | None = None


class CallHttp(TaskBase):
    call: Literal["http"]
    with_: HttpArguments = Field(alias="with")


class GrpcService(Model):
    name: str
    host: str = Field(pattern=r"^[a-zA-Z0-9](?:[a-zA-Z0-9-.]{0,61}[a-zA-Z0-9])?$")
    port: int | None = Field(default=None, ge=0, le=65535)
    authentication: ReferenceableAuthenticationPolicy | None = None


class GrpcArguments(Model):
    proto: ExternalResource
    service: GrpcService
    method: str
    arguments: dict[str, Any] | None = None


class CallGrpc(TaskBase):
    call: Literal["grpc"]
    with_: GrpcArguments = Field(alias="with")


class OpenApiArguments(Model):
    document: ExternalResource
    operation_id: str = Field(alias="operationId")
    parameters: dict[str, Any] | None = None
    authentication: ReferenceableAuthenticationPolicy | None = None
    output: HttpOutput | None = None
    redirect: bool | None = None


class CallOpenApi(TaskBase):
    call: Literal["openapi"]
    with_: OpenApiArguments = Field(alias="with")


class AsyncApiServer(Model):
    name: str
    variables: dict[str, Any] | None = None


class AsyncApiMessage(Model):
    payload: dict[str, Any] | None = None
    headers: dict[str, Any] | None = None


class AsyncApiConsumptionPolicy(Model):
    """Consume for a while (``for``), and stop after ``amount`` messages, ``while`` or ``until``."""

    for_: Duration | None = Field(default=None, alias="for")
    amount: int | None = None
    while_: RuntimeExpression | None = Field(default=None, alias="while")
    until: RuntimeExpression | None = None

    @model_validator(mode="after")
    def _one_stop_condition(self) -> AsyncApiConsumptionPolicy:
        if len(self.model_fields_set & {"amount", "while_", "until"}) != 1:
            raise ValueError("a consumption policy needs exactly one of: amount, while, until")
        return self


class AsyncApiSubscription(Model):
    filter: RuntimeExpression | None = None
    consume: AsyncApiConsumptionPolicy
    foreach: SubscriptionIterator | None = None


_ASYNCAPI_PROTOCOLS = Literal[
    "amqp", "amqp1", "anypointmq", "googlepubsub", "http", "ibmmq", "jms", "kafka", "mercure",
    "mqtt", "mqtt5", "nats", "pulsar", "redis", "sns", "solace", "sqs", "stomp", "ws",
]  # fmt: skip


class AsyncApiArguments(Model):
    document: ExternalResource
    channel: str | None = None
    operation: str | None = None
    server: AsyncApiServer | None = None
    protocol: _ASYNCAPI_PROTOCOLS | None = None
    message: AsyncApiMessage | None = None
    subscription: AsyncApiSubscription | None = None
    authentication: ReferenceableAuthenticationPolicy | None = None

    @model_validator(mode="after")
    def _target_and_direction(self) -> AsyncApiArguments:
        given = self.model_fields_set
        if len(given & {"channel", "operation"}) != 1:
            raise ValueError("an AsyncAPI call needs exactly one of: operation, channel")
        if len(given & {"message", "subscription"}) != 1:
            raise ValueError("an AsyncAPI call needs exactly one of: message, subscription")
        return self


class CallAsyncApi(TaskBase):
    call: Literal["asyncapi"]
    with_: AsyncApiArguments = Field(alias="with")


A2AMethod = Literal[
    "message/send", "message/stream", "tasks/get", "tasks/list", "tasks/cancel", "tasks/resubscribe",
    "tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/get",
    "tasks/pushNotificationConfig/list", "tasks/pushNotificationConfig/delete",
    "agent/getAuthenticatedExtendedCard",
]  # fmt: skip


class A2AArguments(Model):
    agent_card: ExternalResource | None = Field(default=None, alias="agentCard")
    server: Endpoint | None = None
    method: A2AMethod
    parameters: Parameters | None = None

    @model_validator(mode="after")
    def _parameters_not_empty(self) -> A2AArguments:
        if isinstance(self.parameters, dict) and not self.parameters:
            raise ValueError("parameters must not be an empty mapping")
        return self


class CallA2A(TaskBase):
    call: Literal["a2a"]
    with_: A2AArguments = Field(alias="with")


class McpHttpTransport(OpenModel):
    endpoint: Endpoint
    headers: dict[str, str] | None = None


class McpStdioTransport(OpenModel):
    command: str
    arguments: list[str] | None = None
    environment: dict[str, str] | None = None


class McpTransport(OpenModel):
    http: McpHttpTransport | None = None
    stdio: McpStdioTransport | None = None
    options: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_transport(self) -> McpTransport:
        if len(self.model_fields_set & {"http", "stdio"}) != 1:
            raise ValueError("an MCP transport needs exactly one of: http, stdio")
        return self


class McpClient(OpenModel):
    name: str
    #: Required by the schema, which gives it no type.
    version: Any = Field()
    description: str | None = None


McpMethod = Literal[
    "tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list", "resources/read",
    "resources/templates/list",
]  # fmt: skip


class McpArguments(OpenModel):
    protocol_version: str = Field(default="2025-06-18", alias="protocolVersion")
    method: McpMethod
    parameters: Parameters | None = None
    timeout: Duration | None = None
    transport: McpTransport
    client: McpClient | None = None


class CallMcp(TaskBase):
    call: Literal["mcp"]
    with_: McpArguments = Field(alias="with")


def _not_a_protocol(value: str) -> bool:
    return value not in CALL_PROTOCOLS


class CallFunction(TaskBase):
    """A call of a function declared in ``use.functions`` (or fetched from a catalog)."""

    # The task discriminator never routes a protocol name here; the check keeps hand-built
    # models honest too.
    call: Annotated[str, checked(_not_a_protocol, "function_name", "must name a function, not a protocol")]
    with_: dict[str, Any] | None = Field(default=None, alias="with")
