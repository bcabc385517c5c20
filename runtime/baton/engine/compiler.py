"""Phase 3: a validated document becomes an executable graph of task nodes.

Everything that can be decided before a run is decided here: expressions compiled, durations
parsed, ``then`` targets resolved to sibling indices, ``use.*`` references resolved, schemas
checked, join policies and compensations bound. Problems are collected, not raised one by one,
and reported with the document path of each (``do[0].getPet.call``).

The compiler reads the document's validated plain data (``Document.raw``): the typed models of
``baton.dsl`` are the validation boundary, and the spec's own keys (``with``, ``for``, ``try``)
are what each task module needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from baton.dsl import DurationError, duration_seconds
from baton.engine.catalog import Catalog
from baton.engine.compensation import COMPENSATE_KEY, Compensation
from baton.engine.compiled import CompiledWorkflow
from baton.engine.errors import CompileError
from baton.engine.joins import JoinPolicyError, join_policy
from baton.engine.limits import Limits
from baton.engine.retries import RetryPolicy
from baton.engine.schemas import SchemaCheck, SchemaDefinitionError
from baton.engine.tasks.base import CONTINUE, END, EXIT, TaskNode
from baton.engine.tasks.call_http import AuthPolicy, CallHttpNode, UriTemplate
from baton.engine.tasks.call_openapi import CallOpenApiNode
from baton.engine.tasks.do import DoNode, TaskList
from baton.engine.tasks.emit import EmitNode
from baton.engine.tasks.for_ import ForNode
from baton.engine.tasks.fork import ForkNode
from baton.engine.tasks.listen import EventFilter, ListenNode, Strategy
from baton.engine.tasks.raise_ import RaiseNode
from baton.engine.tasks.run_workflow import CallFunctionNode, RunWorkflowNode
from baton.engine.tasks.set import SetNode
from baton.engine.tasks.switch import SwitchCase, SwitchNode
from baton.engine.tasks.try_ import ErrorFilter, TryNode
from baton.engine.tasks.wait import WaitNode
from baton.expressions import (
    Expression,
    ExpressionError,
    Mode,
    ValueTemplate,
    compile_expression,
    compile_value,
    is_strict_expression,
)

__all__ = ["compile_workflow", "pointer_to_path"]

_TASK_KEYS = ("for", "fork", "try", "call", "emit", "listen", "raise", "run", "set", "switch", "wait", "do")
_AUTH_SCHEMES = ("basic", "bearer", "oauth2", "oidc", "digest", "certificate")


class _HasRaw(Protocol):
    @property
    def raw(self) -> Mapping[str, Any]: ...


def pointer_to_path(pointer: str) -> str:
    """``/do/0/getPet/call`` -> ``do[0].getPet.call`` (the path style of ``baton validate``)."""
    out = ""
    for part in pointer.strip("/").split("/"):
        if not part:
            continue
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part.replace("~1", "/").replace("~0", "~")
    return out


class _Skip(Exception):
    pass


class _Compiler:
    def __init__(self, raw: Mapping[str, Any], *, limits: Limits, catalog: Catalog | None) -> None:
        self.raw = raw
        self.limits = limits
        self.catalog = catalog
        self.problems: list[tuple[str, str]] = []
        use = raw.get("use") or {}
        self.use: Mapping[str, Any] = use if isinstance(use, dict) else {}
        evaluate = raw.get("evaluate") or {}
        self.mode: Mode = "loose" if evaluate.get("mode") == "loose" else "strict"
        language = evaluate.get("language", "jq")
        if language != "jq":
            self.problem("/evaluate/language", f"expression language {language!r} is not supported (only jq)")

    # -- helpers -----------------------------------------------------------------------------

    def problem(self, pointer: str, message: str) -> None:
        self.problems.append((pointer_to_path(pointer), message))

    def expression(self, text: Any, pointer: str) -> Expression:
        try:
            return compile_expression(text, path=pointer_to_path(pointer))
        except ExpressionError as exc:
            self.problem(pointer, f"expression does not compile: {exc.message}")
            raise _Skip from exc

    def template(self, value: Any, pointer: str) -> ValueTemplate:
        try:
            return compile_value(value, path=pointer_to_path(pointer), mode=self.mode)
        except ExpressionError as exc:
            # The template knows which leaf failed; its path is already in the dotted form.
            where = exc.path or pointer_to_path(pointer)
            self.problems.append((where, f"expression does not compile: {exc.message}"))
            raise _Skip from exc

    def transform(self, value: Any, pointer: str) -> ValueTemplate | None:
        """``input.from`` / ``output.as`` / ``export.as``: a string is always an expression."""
        if value is None:
            return None
        if isinstance(value, str):
            return ValueTemplate.of_expression(self.expression(value, pointer), source=value)
        return self.template(value, pointer)

    def duration(self, value: Any, pointer: str) -> float:
        if isinstance(value, str) and is_strict_expression(value):
            self.problem(pointer, "this duration must be static (an expression is allowed only in `wait`)")
            raise _Skip
        try:
            return duration_seconds(value)
        except DurationError as exc:
            self.problem(pointer, str(exc))
            raise _Skip from exc

    def schema(self, value: Any, pointer: str) -> SchemaCheck | None:
        if value is None:
            return None
        try:
            return SchemaCheck(value)
        except SchemaDefinitionError as exc:
            self.problem(pointer, str(exc))
            return None

    def timeout(self, value: Any, pointer: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, str):
            defined = (self.use.get("timeouts") or {}).get(value)
            if defined is None:
                self.problem(pointer, f"timeout {value!r} is not defined in use.timeouts")
                return None
            value = defined
        if not isinstance(value, dict) or "after" not in value:
            self.problem(pointer, "a timeout needs `after`")
            return None
        try:
            return self.duration(value["after"], pointer + "/after")
        except _Skip:
            return None

    # -- task lists ----------------------------------------------------------------------------

    def task_list(self, items: Any, pointer: str, parent: str | None) -> TaskList:
        if not isinstance(items, list):
            self.problem(pointer, "expected a list of tasks")
            return TaskList(())
        entries: list[tuple[str, Mapping[str, Any], str]] = []
        for index, item in enumerate(items):
            item_pointer = f"{pointer}/{index}"
            if not isinstance(item, dict) or len(item) != 1:
                self.problem(item_pointer, "each task is an object with exactly one name")
                continue
            ((name, spec),) = item.items()
            if not isinstance(spec, dict):
                self.problem(f"{item_pointer}/{name}", "a task definition must be an object")
                continue
            entries.append((str(name), spec, f"{item_pointer}/{name}"))
        names = tuple(name for name, _, _ in entries)
        indices = {name: i for i, name in reversed(list(enumerate(names)))}
        nodes: list[TaskNode] = []
        for name, spec, task_pointer in entries:
            then = self.directive(spec.get("then"), indices, f"{task_pointer}/then")
            node = self.task(name, spec, task_pointer, parent, siblings=indices)
            if node is not None:
                node.then = then
                nodes.append(node)
        # A task that did not compile leaves indices off, but then compiling fails as a whole.
        return TaskList(tuple(nodes))

    def directive(self, then: Any, indices: Mapping[str, int], pointer: str) -> int:
        if then is None or then == "continue":
            return CONTINUE
        if then == "exit":
            return EXIT
        if then == "end":
            return END
        if isinstance(then, str) and then in indices:
            return indices[then]
        self.problem(pointer, f"flow directive {then!r} names no task in the same list")
        return CONTINUE

    # -- tasks ---------------------------------------------------------------------------------

    def task(
        self,
        name: str,
        spec: Mapping[str, Any],
        pointer: str,
        parent: str | None,
        *,
        siblings: Mapping[str, int] | None = None,
    ) -> TaskNode | None:
        self._siblings: Mapping[str, int] = siblings or {}
        kind = next((key for key in _TASK_KEYS if key in spec), None)
        if kind is None:
            self.problem(pointer, "not a task: no task keyword (call, do, set, switch...) found")
            return None
        common = {"name": name, "path": pointer, "parent": parent, "definition": spec}
        try:
            node = getattr(self, f"task_{kind}")(spec, pointer, common)
            if node is None:
                return None
            self.decorate(node, spec, pointer)
        except _Skip:
            return None
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            # Documents normally arrive validated by baton.dsl; plain data may not have been.
            self.problem(
                pointer, f"malformed {kind} task ({type(exc).__name__}: {exc}); run `baton validate`"
            )
            return None
        return node  # type: ignore[no-any-return]

    def decorate(self, node: TaskNode, spec: Mapping[str, Any], pointer: str) -> None:
        try:
            if spec.get("if") is not None:
                node.if_ = self.expression(spec["if"], f"{pointer}/if")
            data_input = spec.get("input") or {}
            node.input_from = self.transform(data_input.get("from"), f"{pointer}/input/from")
            node.input_schema = self.schema(data_input.get("schema"), f"{pointer}/input/schema")
            data_output = spec.get("output") or {}
            node.output_as = self.transform(data_output.get("as"), f"{pointer}/output/as")
            node.output_schema = self.schema(data_output.get("schema"), f"{pointer}/output/schema")
            export = spec.get("export") or {}
            node.export_as = self.transform(export.get("as"), f"{pointer}/export/as")
            node.export_schema = self.schema(export.get("schema"), f"{pointer}/export/schema")
        except _Skip:
            pass
        node.timeout = self.timeout(spec.get("timeout"), f"{pointer}/timeout")
        metadata = spec.get("metadata") or {}
        if isinstance(metadata, dict) and COMPENSATE_KEY in metadata:
            self.compensation(node, metadata[COMPENSATE_KEY], f"{pointer}/metadata/{COMPENSATE_KEY}")

    def compensation(self, node: TaskNode, handler: Any, pointer: str) -> None:
        if not node.compensable:
            self.problem(
                pointer, f"a {node.kind} task cannot be compensated; put the compensation on its subtasks"
            )
            return
        if isinstance(handler, str):
            function = (self.use.get("functions") or {}).get(handler)
            if not isinstance(function, dict):
                self.problem(pointer, f"compensating task {handler!r} is not defined in use.functions")
                return
            label, spec, at = handler, function, f"/use/functions/{handler}"
        elif (
            isinstance(handler, dict) and len(handler) == 1 and isinstance(next(iter(handler.values())), dict)
        ):
            ((label, spec),) = handler.items()
            at = pointer + f"/{label}"
        else:
            self.problem(pointer, "expected the name of a task in use.functions, or {name: task}")
            return
        compiled = self.task(str(label), spec, at, node.path)
        if compiled is not None:
            node.compensation = Compensation(handler=compiled, label=str(label))

    def task_set(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        value = spec["set"]
        if isinstance(value, str):
            template = self.transform(value, f"{pointer}/set")
            assert template is not None
        else:
            template = self.template(value, f"{pointer}/set")
        return SetNode(value=template, **common)

    def task_do(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        return DoNode(tasks=self.task_list(spec["do"], f"{pointer}/do", pointer), **common)

    def task_switch(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        siblings = self._siblings  # the switch's own list: case targets are its siblings
        cases: list[SwitchCase] = []
        default: SwitchCase | None = None
        for index, item in enumerate(spec["switch"] or []):
            case_pointer = f"{pointer}/switch/{index}"
            if not isinstance(item, dict) or len(item) != 1:
                self.problem(case_pointer, "each switch case is an object with exactly one name")
                continue
            ((case_name, case),) = item.items()
            case_pointer += f"/{case_name}"
            case = case if isinstance(case, dict) else {}
            directive = self.directive(case.get("then"), siblings, f"{case_pointer}/then")
            if case.get("when") is None:
                if default is not None:
                    self.problem(case_pointer, "only one switch case may omit `when`")
                default = SwitchCase(name=str(case_name), when=None, directive=directive)
                continue
            try:
                when = self.expression(case["when"], f"{case_pointer}/when")
            except _Skip:
                continue
            cases.append(SwitchCase(name=str(case_name), when=when, directive=directive))
        return SwitchNode(cases=tuple(cases), default=default, **common)

    def task_for(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        loop = spec["for"] or {}
        in_ = self.expression(loop.get("in"), f"{pointer}/for/in")
        while_ = self.expression(spec["while"], f"{pointer}/while") if spec.get("while") else None
        return ForNode(
            each=str(loop.get("each") or "item"),
            at=str(loop.get("at") or "index"),
            in_=in_,
            while_=while_,
            tasks=self.task_list(spec.get("do"), f"{pointer}/do", pointer),
            **common,
        )

    def task_fork(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        fork = spec["fork"] or {}
        branches = self.task_list(fork.get("branches") or [], f"{pointer}/fork/branches", pointer)
        width = len(branches.nodes)
        if width > self.limits.max_fork_width:
            self.problem(
                f"{pointer}/fork/branches",
                f"fork has {width} branches, over the limit of {self.limits.max_fork_width} "
                "(Limits.max_fork_width)",
            )
        try:
            policy = join_policy(spec.get("metadata"), compete=bool(fork.get("compete")), branches=width)
        except JoinPolicyError as exc:
            self.problem(f"{pointer}/metadata", str(exc))
            raise _Skip from exc
        return ForkNode(branches=branches.nodes, policy=policy, **common)

    def task_try(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        catch = spec.get("catch") or {}
        errors = (catch.get("errors") or {}).get("with")
        retry = catch.get("retry")
        return TryNode(
            tasks=self.task_list(spec["try"], f"{pointer}/try", pointer),
            filter=ErrorFilter(errors) if isinstance(errors, dict) and errors else None,
            as_=str(catch.get("as") or "error"),
            when=self.expression(catch["when"], f"{pointer}/catch/when") if catch.get("when") else None,
            except_when=(
                self.expression(catch["exceptWhen"], f"{pointer}/catch/exceptWhen")
                if catch.get("exceptWhen")
                else None
            ),
            retry=None if retry is None else self.retry_policy(retry, f"{pointer}/catch/retry"),
            catch_do=(
                self.task_list(catch["do"], f"{pointer}/catch/do", pointer)
                if catch.get("do") is not None
                else None
            ),
            **common,
        )

    def retry_policy(self, retry: Any, pointer: str) -> RetryPolicy | None:
        if isinstance(retry, str):
            defined = (self.use.get("retries") or {}).get(retry)
            if not isinstance(defined, dict):
                self.problem(pointer, f"retry policy {retry!r} is not defined in use.retries")
                return None
            pointer = f"/use/retries/{retry}"
            retry = defined
        if not isinstance(retry, dict):
            self.problem(pointer, "a retry policy is an object or the name of one in use.retries")
            return None
        try:
            delay = (
                self.duration(retry["delay"], f"{pointer}/delay") if retry.get("delay") is not None else 0.0
            )
            backoff_spec = retry.get("backoff") or {}
            backoff = next(
                (b for b in ("exponential", "linear", "constant") if b in backoff_spec), "constant"
            )
            jitter = retry.get("jitter")
            jitter_range = (
                (
                    self.duration(jitter["from"], f"{pointer}/jitter/from"),
                    self.duration(jitter["to"], f"{pointer}/jitter/to"),
                )
                if isinstance(jitter, dict)
                else None
            )
            limit = retry.get("limit") or {}
            attempt = limit.get("attempt") or {}
            count = attempt.get("count")
            return RetryPolicy(
                delay=delay,
                backoff=backoff,  # type: ignore[arg-type]
                jitter=jitter_range,
                max_retries=count if isinstance(count, int) else None,
                max_duration=(
                    self.duration(limit["duration"], f"{pointer}/limit/duration")
                    if limit.get("duration")
                    else None
                ),
                attempt_timeout=(
                    self.duration(attempt["duration"], f"{pointer}/limit/attempt/duration")
                    if attempt.get("duration")
                    else None
                ),
                when=self.expression(retry["when"], f"{pointer}/when") if retry.get("when") else None,
                except_when=(
                    self.expression(retry["exceptWhen"], f"{pointer}/exceptWhen")
                    if retry.get("exceptWhen")
                    else None
                ),
            )
        except _Skip:
            return None

    def task_raise(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        error = (spec["raise"] or {}).get("error")
        if isinstance(error, str):
            defined = (self.use.get("errors") or {}).get(error)
            if not isinstance(defined, dict):
                self.problem(f"{pointer}/raise/error", f"error {error!r} is not defined in use.errors")
                raise _Skip
            error = defined
        if not isinstance(error, dict) or "type" not in error:
            self.problem(f"{pointer}/raise/error", "an error needs at least `type` and `status`")
            raise _Skip
        return RaiseNode(error=self.template(error, f"{pointer}/raise/error"), **common)

    def task_wait(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        value = spec["wait"]
        if isinstance(value, str) and is_strict_expression(value):
            return WaitNode(seconds=None, expression=self.expression(value, f"{pointer}/wait"), **common)
        return WaitNode(seconds=self.duration(value, f"{pointer}/wait"), expression=None, **common)

    def task_emit(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        event = ((spec["emit"] or {}).get("event") or {}).get("with")
        if not isinstance(event, dict):
            self.problem(f"{pointer}/emit/event/with", "emit needs the event's properties under event.with")
            raise _Skip
        return EmitNode(event=self.template(event, f"{pointer}/emit/event/with"), **common)

    def task_listen(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        listen = spec["listen"] or {}
        if spec.get("foreach") is not None:
            self.problem(f"{pointer}/foreach", "listen.foreach is not supported by Baton yet")
        read = listen.get("read", "data")
        if read not in ("data", "envelope", "raw"):
            self.problem(f"{pointer}/listen/read", f"read must be data, envelope or raw; got {read!r}")
        strategy = self.event_strategy(listen.get("to"), f"{pointer}/listen/to")
        return ListenNode(strategy=strategy, read=str(read), **common)

    def event_strategy(self, spec: Any, pointer: str) -> Strategy:
        if not isinstance(spec, dict):
            self.problem(pointer, "expected one of: one, any, all")
            raise _Skip
        if "one" in spec:
            return Strategy("one", (self.event_filter(spec["one"], f"{pointer}/one"),))
        kind = "all" if "all" in spec else "any"
        filters = spec.get(kind)
        if not isinstance(filters, list):
            self.problem(f"{pointer}/{kind}", "expected a list of event filters")
            raise _Skip
        compiled = tuple(self.event_filter(f, f"{pointer}/{kind}/{i}") for i, f in enumerate(filters))
        until = spec.get("until") if kind == "any" else None
        if isinstance(until, str):
            return Strategy("any", compiled, until_expression=self.expression(until, f"{pointer}/until"))
        if isinstance(until, dict):
            return Strategy("any", compiled, until_strategy=self.event_strategy(until, f"{pointer}/until"))
        return Strategy(kind, compiled)  # type: ignore[arg-type]

    def event_filter(self, spec: Any, pointer: str) -> EventFilter:
        if not isinstance(spec, dict) or not isinstance(spec.get("with"), dict):
            self.problem(pointer, "an event filter needs `with` attributes")
            raise _Skip
        if spec.get("correlate"):
            self.problem(f"{pointer}/correlate", "event correlation is not supported by Baton yet")
        expressions: list[tuple[str, Expression]] = []
        patterns: list[tuple[str, re.Pattern[str]]] = []
        values: list[tuple[str, Any]] = []
        for name, value in spec["with"].items():
            if isinstance(value, str) and is_strict_expression(value):
                expressions.append((name, self.expression(value, f"{pointer}/with/{name}")))
            elif isinstance(value, str):
                try:
                    patterns.append((name, re.compile(value)))
                except re.error:
                    patterns.append((name, re.compile(re.escape(value))))
            else:
                values.append((name, value))
        return EventFilter(tuple(expressions), tuple(patterns), tuple(values))

    def task_run(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode | None:
        run = spec["run"] or {}
        workflow = run.get("workflow")
        if not isinstance(workflow, dict):
            kind = next((k for k in ("container", "shell", "script") if k in run), "this process")
            self.problem(f"{pointer}/run", f"run: {kind} is not supported by Baton")
            return None
        namespace = str(workflow.get("namespace", ""))
        name = str(workflow.get("name", ""))
        version = str(workflow.get("version") or "latest")
        label = f"{namespace}/{name}:{version}"
        catalog = self.catalog
        if catalog is None or not catalog.has(namespace, name, version):
            self.problem(f"{pointer}/run/workflow", f"workflow {label} is not in the catalog")
            raise _Skip
        input_template = (
            self.template(workflow["input"], f"{pointer}/run/workflow/input") if "input" in workflow else None
        )
        limits = self.limits

        def resolve() -> CompiledWorkflow:
            return catalog.compiled(namespace, name, version, limits=limits)

        return RunWorkflowNode(
            resolve=resolve,
            label=label,
            input_template=input_template,
            await_=run.get("await", True) is not False,
            **common,
        )

    def task_call(self, spec: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode | None:
        call = spec["call"]
        arguments = spec.get("with") or {}
        if call == "http":
            return self.call_http(arguments, f"{pointer}/with", common)
        if call == "openapi":
            return self.call_openapi(arguments, f"{pointer}/with", common)
        if call in ("grpc", "asyncapi", "a2a", "mcp"):
            self.problem(f"{pointer}/call", f"call: {call} is not supported by Baton yet")
            return None
        function = (self.use.get("functions") or {}).get(call)
        if not isinstance(function, dict):
            self.problem(f"{pointer}/call", f"function {call!r} is not defined in use.functions")
            return None
        node = self.task(str(call), function, f"{pointer}/call/{call}", pointer)
        if node is None:
            return None
        template = self.template(arguments, f"{pointer}/with") if spec.get("with") is not None else None
        return CallFunctionNode(function=node, arguments=template, **common)

    def call_http(self, arguments: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        endpoint = arguments.get("endpoint")
        if isinstance(endpoint, str):
            endpoint = {"uri": endpoint}
        if not isinstance(endpoint, dict) or not isinstance(endpoint.get("uri"), str):
            self.problem(f"{pointer}/endpoint", "endpoint must be a URI or an object with `uri`")
            raise _Skip
        text = endpoint["uri"]
        uri = UriTemplate(
            text,
            expression=self.expression(text, f"{pointer}/endpoint/uri")
            if is_strict_expression(text)
            else None,
        )
        auth = self.authentication(endpoint.get("authentication"), f"{pointer}/endpoint/authentication")
        output = arguments.get("output", "content")
        if output not in ("content", "response", "raw"):
            self.problem(f"{pointer}/output", f"output must be content, response or raw; got {output!r}")
        headers = arguments.get("headers")
        query = arguments.get("query")
        return CallHttpNode(
            method=self.template(arguments.get("method", "get"), f"{pointer}/method"),
            uri=uri,
            headers=None if headers is None else self.transform(headers, f"{pointer}/headers"),
            query=None if query is None else self.transform(query, f"{pointer}/query"),
            body=None if "body" not in arguments else self.template(arguments["body"], f"{pointer}/body"),
            output_format=str(output),
            redirect=bool(arguments.get("redirect", False)),
            auth=auth,
            **common,
        )

    def call_openapi(self, arguments: Mapping[str, Any], pointer: str, common: dict[str, Any]) -> TaskNode:
        endpoint = (arguments.get("document") or {}).get("endpoint")
        if isinstance(endpoint, str):
            endpoint = {"uri": endpoint}
        if not isinstance(endpoint, dict) or not isinstance(endpoint.get("uri"), str):
            self.problem(f"{pointer}/document", "document needs an endpoint URI")
            raise _Skip
        operation_id = arguments.get("operationId")
        if not isinstance(operation_id, str) or not operation_id:
            self.problem(f"{pointer}/operationId", "operationId must name an operation of the document")
            raise _Skip
        output = arguments.get("output", "content")
        if output not in ("content", "response", "raw"):
            self.problem(f"{pointer}/output", f"output must be content, response or raw; got {output!r}")
        parameters = arguments.get("parameters")
        return CallOpenApiNode(
            document_uri=endpoint["uri"],
            document_auth=self.authentication(
                endpoint.get("authentication"), f"{pointer}/document/endpoint/authentication"
            ),
            operation_id=operation_id,
            parameters=None if parameters is None else self.transform(parameters, f"{pointer}/parameters"),
            auth=self.authentication(arguments.get("authentication"), f"{pointer}/authentication"),
            output_format=str(output),
            redirect=bool(arguments.get("redirect", False)),
            **common,
        )

    def authentication(self, spec: Any, pointer: str) -> AuthPolicy | None:
        if spec is None:
            return None
        if isinstance(spec, dict) and isinstance(spec.get("use"), str):
            name = spec["use"]
            defined = (self.use.get("authentications") or {}).get(name)
            if not isinstance(defined, dict):
                self.problem(
                    f"{pointer}/use", f"authentication {name!r} is not defined in use.authentications"
                )
                return None
            pointer = f"/use/authentications/{name}"
            spec = defined
        if not isinstance(spec, dict):
            self.problem(pointer, "an authentication is an object naming its scheme")
            return None
        scheme = next((s for s in _AUTH_SCHEMES if s in spec), None)
        if scheme is None:
            self.problem(pointer, f"authentication needs one of {', '.join(_AUTH_SCHEMES)}")
            return None
        if scheme in ("digest", "certificate"):
            self.problem(f"{pointer}/{scheme}", f"{scheme} authentication is not supported by Baton")
            return None
        settings = spec[scheme]
        if isinstance(settings, dict) and isinstance(settings.get("use"), str) and len(settings) == 1:
            secret = settings["use"]
            if secret not in (self.use.get("secrets") or []):
                self.problem(f"{pointer}/{scheme}/use", f"secret {secret!r} is not declared in use.secrets")
            return AuthPolicy(scheme=scheme, settings=None, secret=secret)
        try:
            return AuthPolicy(
                scheme=scheme, settings=self.template(settings, f"{pointer}/{scheme}"), secret=None
            )
        except _Skip:
            return None


def compile_workflow(
    document: _HasRaw | Mapping[str, Any],
    *,
    catalog: Catalog | None = None,
    limits: Limits | None = None,
) -> CompiledWorkflow:
    """Compile a validated document (a ``baton.dsl.Document`` or its plain data).

    Raises ``CompileError`` listing every problem found.
    """
    raw: Mapping[str, Any] = document if isinstance(document, Mapping) else document.raw
    try:
        return _compile(raw, catalog=catalog, limits=limits or Limits())
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        # Outside any task (document header, use, input/output): plain data not validated.
        message = f"malformed document ({type(exc).__name__}: {exc}); run `baton validate`"
        raise CompileError([("", message)]) from exc


def _compile(raw: Mapping[str, Any], *, catalog: Catalog | None, limits: Limits) -> CompiledWorkflow:
    compiler = _Compiler(raw, limits=limits, catalog=catalog)
    meta = raw.get("document") or {}
    tasks = compiler.task_list(raw.get("do"), "/do", None)
    workflow_input = raw.get("input") or {}
    workflow_output = raw.get("output") or {}
    try:
        input_from = compiler.transform(workflow_input.get("from"), "/input/from")
    except _Skip:
        input_from = None
    try:
        output_as = compiler.transform(workflow_output.get("as"), "/output/as")
    except _Skip:
        output_as = None
    compiled = CompiledWorkflow(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        version=str(meta.get("version", "")),
        definition=raw,
        tasks=tasks,
        limits=limits,
        secret_names=tuple(str(s) for s in (compiler.use.get("secrets") or [])),
        input_schema=compiler.schema(workflow_input.get("schema"), "/input/schema"),
        input_from=input_from,
        output_as=output_as,
        output_schema=compiler.schema(workflow_output.get("schema"), "/output/schema"),
        timeout=compiler.timeout(raw.get("timeout"), "/timeout"),
    )
    if compiler.problems:
        raise CompileError(compiler.problems)
    return compiled
