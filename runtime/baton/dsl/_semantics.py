"""Checks beyond the schema, on the raw data so they run even when the schema check failed.

Flow targets exist in their list, task names are unique, every ``use.*`` reference is
declared, runtime expressions compile with the variables in scope, durations are sane, and
whatever Baton will not run is reported (severity ``unsupported``) before any run starts.
The walk is defensive: malformed parts are the schema check's to report and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from baton.dsl import _paths, support
from baton.dsl._jq_syntax import STANDARD_VARIABLES, expression_body, jq_compile_error, strict_body
from baton.dsl.loading import DEFAULT_LIMITS, LoadLimits
from baton.dsl.models.calls import CALL_PROTOCOLS
from baton.dsl.models.task_base import FLOW_DIRECTIVES
from baton.dsl.models.tasks import task_kind
from baton.dsl.problems import Problem

__all__ = ["semantic_problems"]

_SECRET_REFERENCE = re.compile(r"\$secrets\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*\"([^\"]+)\"\s*\])")
_SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")
_PROCESSES = ("container", "script", "shell", "workflow")
_LISTED = 8

#: Baton's compensation extension (the engine's ``COMPENSATE_KEY``): a task's ``metadata`` names
#: the task that undoes it, and that task runs with ``$compensation`` bound (docs/engine.md).
COMPENSATE_KEY = "baton.compensateBy"
_COMPENSATION_VARIABLES = STANDARD_VARIABLES | {"compensation"}
_COMPENSATION_REFERENCE = re.compile(r"\$compensation\b")

key, index = _paths.key, _paths.index


def _names(value: Any) -> set[str]:
    return {name for name in value if isinstance(name, str)} if isinstance(value, dict | list) else set()


def _listing(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:_LISTED])
    return shown + (f" (and {len(names) - _LISTED} more)" if len(names) > _LISTED else "")


class _Checker:
    def __init__(self, raw: dict[str, Any], file: str | None, limits: LoadLimits) -> None:
        self.raw = raw
        self.file = file
        self.limits = limits
        self.expressions_length = 0
        self.over_budget = False
        self.problems: list[Problem] = []
        use = raw.get("use")
        self.use: dict[str, Any] = use if isinstance(use, dict) else {}
        self.authentications = self._declared("authentications")
        self.errors = _names(self.use.get("errors"))
        self.functions = self._declared("functions")
        self.retries = _names(self.use.get("retries"))
        self.timeouts = _names(self.use.get("timeouts"))
        secrets = self.use.get("secrets")
        self.secrets: set[str] | None = _names(secrets) if isinstance(secrets, list) else None
        #: Unsupported findings are collected here instead of reported while checking a
        #: reusable component, and reported where the component is used.
        self.sink: list[str] | None = None
        self.function_findings: dict[str, list[str]] = {}
        self.checking: set[str] = set()
        #: Functions some task names as its compensation: they run with ``$compensation``.
        self.compensations = _compensation_handlers(raw)

    def _declared(self, kind: str) -> dict[str, Any]:
        value = self.use.get(kind)
        return {k: v for k, v in value.items() if isinstance(k, str)} if isinstance(value, dict) else {}

    # -- reporting ----------------------------------------------------------------------
    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, self.file))

    def unsupported(self, path: str, message: str) -> None:
        if self.sink is not None:
            self.sink.append(message)
        else:
            self.problems.append(Problem(path, message, self.file, "unsupported"))

    # -- the document -------------------------------------------------------------------
    def run(self) -> list[Problem]:
        raw = self.raw
        variables = STANDARD_VARIABLES
        self.data_flow(raw, "", variables)
        self.timeout(raw.get("timeout"), "timeout")
        self.use_section(variables)
        for feature, reason in support.UNSUPPORTED_DOCUMENT_FEATURES.items():
            section, _, name = feature.partition(".")
            value = raw.get(section) if not name else self.use.get(name)
            if value:
                self.unsupported(feature, reason)
        evaluate = raw.get("evaluate")
        language = evaluate.get("language", "jq") if isinstance(evaluate, dict) else "jq"
        if language != "jq":
            self.unsupported(
                "evaluate.language", f"expression language {language!r} is not supported by Baton (jq)"
            )
        schedule = raw.get("schedule")
        if isinstance(schedule, dict):
            for name in ("every", "after"):
                self.duration(schedule.get(name), key("schedule", name), variables)
        self.task_list(raw.get("do"), "do", variables)
        return self.problems

    def use_section(self, variables: frozenset[str]) -> None:
        for name, policy in self.authentications.items():
            self.sink = []  # reported where the policy is used
            self.authentication_policy(policy, key("use.authentications", name), variables)
            self.sink = None
        for name, error in self._declared("errors").items():
            self.strict_leaves(error, key("use.errors", name), variables)
        for name, policy in self._declared("retries").items():
            self.retry(policy, key("use.retries", name), variables)
        for name, timeout in self._declared("timeouts").items():
            if isinstance(timeout, dict):
                self.duration(timeout.get("after"), key(key("use.timeouts", name), "after"), variables)
        for name in self.functions:
            self.function(name)
        extensions = self.use.get("extensions")
        for i, item in enumerate(extensions if isinstance(extensions, list) else []):
            if isinstance(item, dict) and len(item) == 1:
                ((name, extension),) = item.items()
                if isinstance(extension, dict):
                    path = key(index("use.extensions", i), name)
                    self.loose(extension.get("when"), key(path, "when"), variables)
                    for part in ("before", "after"):
                        self.task_list(extension.get(part), key(path, part), variables)

    def function(self, name: str) -> list[str]:
        """Check a function once; what in it Baton cannot run, to report where it is called."""
        if name in self.function_findings:
            return self.function_findings[name]
        if name in self.checking:
            return []  # a function calling itself: reported by the engine's step budget, not here
        self.checking.add(name)
        outer, self.sink = self.sink, []
        variables = _COMPENSATION_VARIABLES if name in self.compensations else STANDARD_VARIABLES
        self.task(self.functions[name], key("use.functions", name), (), variables)
        findings, self.sink = self.sink, outer
        self.checking.discard(name)
        self.function_findings[name] = findings
        return findings

    # -- task lists and tasks -----------------------------------------------------------
    def task_list(self, items: Any, path: str, variables: frozenset[str]) -> None:
        if not isinstance(items, list):
            return
        first_at: dict[str, str] = {}
        entries: list[tuple[Any, str]] = []
        for i, item in enumerate(items):
            if not (isinstance(item, dict) and len(item) == 1):
                continue
            ((name, body),) = item.items()
            item_path = key(index(path, i), name)
            if name in first_at:
                self.error(item_path, f"duplicate task name '{name}' (first used at {first_at[name]})")
            else:
                first_at[name] = item_path
            entries.append((body, item_path))
        for body, item_path in entries:
            self.task(body, item_path, first_at.keys(), variables)

    def task(self, body: Any, path: str, siblings: Collection[str], variables: frozenset[str]) -> None:
        if not isinstance(body, dict):
            return
        self.loose(body.get("if"), key(path, "if"), variables)
        self.data_flow(body, path, variables)
        self.timeout(body.get("timeout"), key(path, "timeout"))
        self.then(body.get("then"), key(path, "then"), siblings)
        metadata = body.get("metadata")
        if isinstance(metadata, dict) and COMPENSATE_KEY in metadata:
            self.compensation(metadata[COMPENSATE_KEY], key(key(path, "metadata"), COMPENSATE_KEY))
        kind = task_kind(body)
        if kind is None:
            return
        if kind not in support.SUPPORTED_TASKS:
            self.unsupported(key(path, kind), f"{kind} tasks are not supported by Baton")
        getattr(self, f"task_{kind}")(body, path, siblings, variables)

    def compensation(self, handler: Any, path: str) -> None:
        """The compensating task: a function's name, or an inline ``{name: task}`` checked with
        ``$compensation`` in scope (its shape beyond that is the engine's compiler's to report)."""
        if isinstance(handler, str):
            if handler not in self.functions:
                self.error(path, f"compensating task '{handler}' is not declared in use.functions")
        elif isinstance(handler, dict) and len(handler) == 1:
            ((name, task),) = handler.items()
            self.task(task, key(path, name), (), _COMPENSATION_VARIABLES)

    def then(self, target: Any, path: str, siblings: Collection[str]) -> None:
        if isinstance(target, str) and target not in FLOW_DIRECTIVES and target not in siblings:
            choices = _listing(["continue", "exit", "end", *siblings])
            self.error(path, f"'{target}' is not a task in the same list; expected one of: {choices}")

    def task_call(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        call, arguments = body.get("call"), body.get("with")
        with_path = key(path, "with")
        if call in CALL_PROTOCOLS:
            if call not in support.SUPPORTED_CALLS:
                self.unsupported(key(path, "call"), f"call: {call} is not supported by Baton")
            if call == "http":
                self.http(arguments, with_path, variables)
            else:
                self.foreign_call(arguments, with_path, variables)
            return
        if not isinstance(call, str):
            return
        self.strict_leaves(arguments, with_path, variables)
        if "://" in call and call not in self.functions:
            # A function definition published at a URL (dsl.md, "Using a Custom Function").
            self.unsupported(key(path, "call"), "functions fetched from a URL are not supported by Baton")
            return
        if "@" in call and call not in self.functions:
            # {function}:{version}@{catalog}: resolved from a catalog at run time (dsl.md, Catalogs).
            catalog = call.rpartition("@")[2]
            if catalog != "default" and catalog not in _names(self.use.get("catalogs")):
                self.error(key(path, "call"), f"catalog '{catalog}' is not declared in use.catalogs")
            else:
                self.unsupported(key(path, "call"), "functions from catalogs are not supported by Baton")
            return
        if call not in self.functions:
            self.error(key(path, "call"), f"function '{call}' is not declared in use.functions")
            return
        findings = self.function(call)
        if findings:
            self.unsupported(key(path, "call"), f"function '{call}': {findings[0]}")
        if call in self.compensations and _reads_compensation(self.functions[call]):
            self.error(
                key(path, "call"),
                f"function '{call}' reads $compensation, which is only bound when it runs as a "
                f"compensation ({COMPENSATE_KEY}), not when a task calls it",
            )

    def http(self, arguments: Any, path: str, variables: frozenset[str]) -> None:
        if not isinstance(arguments, dict):
            return
        self.endpoint(arguments.get("endpoint"), key(path, "endpoint"), variables)
        for name in ("method", "headers", "query", "body"):
            self.strict_leaves(arguments.get(name), key(path, name), variables)

    def foreign_call(self, arguments: Any, path: str, variables: frozenset[str]) -> None:
        """Calls by description (OpenAPI, gRPC, AsyncAPI, A2A, MCP): references and expressions."""
        if not isinstance(arguments, dict):
            return
        self.authentication(arguments.get("authentication"), key(path, "authentication"), variables)
        for name in ("server", "endpoint"):
            self.endpoint(arguments.get(name), key(path, name), variables)
        for name in ("parameters", "arguments", "message"):
            self.strict_leaves(arguments.get(name), key(path, name), variables)
        for name in ("document", "proto", "agentCard"):
            resource = arguments.get(name)
            if isinstance(resource, dict):
                self.endpoint(resource.get("endpoint"), key(key(path, name), "endpoint"), variables)
        service = arguments.get("service")
        if isinstance(service, dict):
            self.authentication(
                service.get("authentication"), key(key(path, "service"), "authentication"), variables
            )

    def task_do(self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]) -> None:
        self.task_list(body.get("do"), key(path, "do"), variables)

    def task_fork(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        fork = body.get("fork")
        if isinstance(fork, dict):
            self.task_list(fork.get("branches"), key(key(path, "fork"), "branches"), variables)

    def task_emit(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        emit = body.get("emit")
        self.strict_leaves(emit, key(path, "emit"), variables)
        event = emit.get("event") if isinstance(emit, dict) else None
        if isinstance(event, dict) and "with" not in event:
            self.unsupported(
                key(key(path, "emit"), "event"),
                "Baton emits the event described under event.with, which is missing",
            )

    def task_for(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        loop = body.get("for")
        inner = variables
        if isinstance(loop, dict):
            self.loose(loop.get("in"), key(key(path, "for"), "in"), variables)
            names = (loop.get("each", "item"), loop.get("at", "index"))
            inner = variables | {name for name in names if isinstance(name, str)}
        self.loose(body.get("while"), key(path, "while"), inner)
        self.task_list(body.get("do"), key(path, "do"), inner)

    def task_listen(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        listen = body.get("listen")
        if isinstance(listen, dict):
            self.events(listen.get("to"), key(key(path, "listen"), "to"), variables)
        if "foreach" in body and not support.LISTEN_FOREACH:
            self.unsupported(key(path, "foreach"), "listen.foreach is not supported by Baton")
        self.iterator(body.get("foreach"), key(path, "foreach"), variables)

    def events(self, strategy: Any, path: str, variables: frozenset[str]) -> None:
        """An event consumption strategy: filters are data, ``until`` is an expression or events."""
        if not isinstance(strategy, dict):
            return
        for mode in ("all", "any", "one"):
            filters = strategy.get(mode)
            self.strict_leaves(filters, key(path, mode), variables)
            listed = filters if isinstance(filters, list) else [filters]
            for i, event_filter in enumerate(listed):
                if (
                    isinstance(event_filter, dict)
                    and event_filter.get("correlate")
                    and not support.EVENT_CORRELATION
                ):
                    where = key(index(key(path, mode), i) if mode != "one" else key(path, mode), "correlate")
                    self.unsupported(where, "event correlation is not supported by Baton")
        until = strategy.get("until")
        if isinstance(until, str):
            self.loose(until, key(path, "until"), variables)
        else:
            self.events(until, key(path, "until"), variables)

    def iterator(self, spec: Any, path: str, variables: frozenset[str]) -> None:
        """A ``foreach`` over consumed events or messages, with its item and index variables."""
        if not isinstance(spec, dict):
            return
        names = (spec.get("item", "item"), spec.get("at", "index"))
        inner = variables | {name for name in names if isinstance(name, str)}
        self.task_list(spec.get("do"), key(path, "do"), inner)
        self.data_flow(spec, path, inner)

    def task_raise(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        spec = body.get("raise")
        error = spec.get("error") if isinstance(spec, dict) else None
        error_path = key(key(path, "raise"), "error")
        if isinstance(error, str) and error not in self.errors:
            self.error(error_path, f"error '{error}' is not declared in use.errors")
        elif isinstance(error, dict):
            self.strict_leaves(error, error_path, variables)

    def task_run(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        run = body.get("run")
        if not isinstance(run, dict):
            return
        process = next((name for name in _PROCESSES if name in run), None)
        if process is None:
            return
        if process not in support.SUPPORTED_PROCESSES:
            self.unsupported(key(key(path, "run"), process), f"run: {process} is not supported by Baton")
        workflow = run.get("workflow")
        if process == "workflow" and isinstance(workflow, dict):
            self.strict_leaves(
                workflow.get("input"), key(key(key(path, "run"), "workflow"), "input"), variables
            )

    def task_set(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        self.strict_leaves(body.get("set"), key(path, "set"), variables)

    def task_switch(
        self, body: dict[str, Any], path: str, siblings: Collection[str], variables: frozenset[str]
    ) -> None:
        cases = body.get("switch")
        if not isinstance(cases, list):
            return
        first_at: dict[str, str] = {}
        default: str | None = None
        for i, item in enumerate(cases):
            if not (isinstance(item, dict) and len(item) == 1):
                continue
            ((name, case),) = item.items()
            case_path = key(index(key(path, "switch"), i), name)
            if name in first_at:
                self.error(case_path, f"duplicate case name '{name}' (first used at {first_at[name]})")
            first_at.setdefault(name, case_path)
            if isinstance(case, dict):
                if "when" not in case:
                    if default is not None:
                        self.error(case_path, f"only one case may omit 'when' (the default); {default} does")
                    default = default or case_path
                self.loose(case.get("when"), key(case_path, "when"), variables)
                self.then(case.get("then"), key(case_path, "then"), siblings)

    def task_try(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        self.task_list(body.get("try"), key(path, "try"), variables)
        catch = body.get("catch")
        if not isinstance(catch, dict):
            return
        catch_path = key(path, "catch")
        bound = catch.get("as", "error")
        inner = variables | ({bound} if isinstance(bound, str) else set())
        self.loose(catch.get("when"), key(catch_path, "when"), inner)
        self.loose(catch.get("exceptWhen"), key(catch_path, "exceptWhen"), inner)
        retry = catch.get("retry")
        if isinstance(retry, str) and retry not in self.retries:
            self.error(key(catch_path, "retry"), f"retry policy '{retry}' is not declared in use.retries")
        elif isinstance(retry, dict):
            self.retry(retry, key(catch_path, "retry"), inner)
        self.task_list(catch.get("do"), key(catch_path, "do"), inner)

    def task_wait(
        self, body: dict[str, Any], path: str, _: Collection[str], variables: frozenset[str]
    ) -> None:
        self.duration(body.get("wait"), key(path, "wait"), variables, dynamic=True)

    # -- parts --------------------------------------------------------------------------
    def data_flow(self, owner: dict[str, Any], path: str, variables: frozenset[str]) -> None:
        for part, field in (("input", "from"), ("output", "as"), ("export", "as")):
            spec = owner.get(part)
            if not isinstance(spec, dict):
                continue
            part_path = key(path, part)
            value = spec.get(field)
            if isinstance(value, str):
                self.loose(value, key(part_path, field), variables)
            else:
                self.strict_leaves(value, key(part_path, field), variables)
            schema = spec.get("schema")
            if isinstance(schema, dict) and "resource" in schema and not support.EXTERNAL_SCHEMAS:
                self.unsupported(
                    key(key(part_path, "schema"), "resource"),
                    "external schemas are not supported by Baton; inline the schema under 'document'",
                )

    def timeout(self, value: Any, path: str) -> None:
        if isinstance(value, str) and value not in self.timeouts:
            self.error(path, f"timeout '{value}' is not declared in use.timeouts")
        elif isinstance(value, dict):
            self.duration(value.get("after"), key(path, "after"), STANDARD_VARIABLES)

    def retry(self, policy: Any, path: str, variables: frozenset[str]) -> None:
        if not isinstance(policy, dict):
            return
        self.loose(policy.get("when"), key(path, "when"), variables)
        self.loose(policy.get("exceptWhen"), key(path, "exceptWhen"), variables)
        self.duration(policy.get("delay"), key(path, "delay"), variables)
        limit = policy.get("limit")
        if isinstance(limit, dict):
            self.duration(limit.get("duration"), key(key(path, "limit"), "duration"), variables)
            attempt = limit.get("attempt")
            if isinstance(attempt, dict):
                attempt_path = key(key(path, "limit"), "attempt")
                self.duration(attempt.get("duration"), key(attempt_path, "duration"), variables)
                count = attempt.get("count")
                if isinstance(count, int) and not isinstance(count, bool) and count < 0:
                    self.error(key(attempt_path, "count"), "must not be negative")
        jitter = policy.get("jitter")
        if isinstance(jitter, dict):
            for end in ("from", "to"):
                self.duration(jitter.get(end), key(key(path, "jitter"), end), variables)

    def duration(self, value: Any, path: str, variables: frozenset[str], *, dynamic: bool = False) -> None:
        """A duration; one computed by an expression is run only where ``dynamic`` (``wait``)."""
        if isinstance(value, str):
            body = strict_body(value)
            if body is not None:
                self.expression(body, path, variables)
                if not dynamic and not support.DYNAMIC_DURATIONS:
                    self.unsupported(path, "a duration computed by an expression is supported only in wait")
        elif isinstance(value, dict):
            for unit, amount in value.items():
                if isinstance(amount, int) and not isinstance(amount, bool) and amount < 0:
                    self.error(key(path, unit), "a duration must not be negative")

    def endpoint(self, value: Any, path: str, variables: frozenset[str]) -> None:
        if isinstance(value, str):
            self.strict_leaves(value, path, variables)
        elif isinstance(value, dict):
            self.strict_leaves(value.get("uri"), key(path, "uri"), variables)
            self.authentication(value.get("authentication"), key(path, "authentication"), variables)

    def authentication(self, value: Any, path: str, variables: frozenset[str]) -> None:
        if not isinstance(value, dict):
            return
        name = value.get("use")
        if isinstance(name, str):
            if name not in self.authentications:
                self.error(
                    key(path, "use"), f"authentication '{name}' is not declared in use.authentications"
                )
                return
            scheme = next(
                (
                    s
                    for s in _SCHEMES
                    if isinstance(self.authentications[name], dict) and s in self.authentications[name]
                ),
                None,
            )
            if scheme is not None and scheme not in support.SUPPORTED_AUTHENTICATIONS:
                self.unsupported(
                    key(path, "use"),
                    f"authentication '{name}' uses {scheme}, which is not supported by Baton",
                )
            return
        self.authentication_policy(value, path, variables)

    def authentication_policy(self, policy: Any, path: str, variables: frozenset[str]) -> None:
        if not isinstance(policy, dict):
            return
        scheme = next((s for s in _SCHEMES if s in policy), None)
        if scheme is None:
            return
        scheme_path = key(path, scheme)
        if scheme not in support.SUPPORTED_AUTHENTICATIONS:
            self.unsupported(scheme_path, f"{scheme} authentication is not supported by Baton")
        settings = policy[scheme]
        if not isinstance(settings, dict):
            return
        secret = settings.get("use")
        if isinstance(secret, str) and (self.secrets is None or secret not in self.secrets):
            self.error(key(scheme_path, "use"), f"secret '{secret}' is not declared in use.secrets")
        self.strict_leaves({k: v for k, v in settings.items() if k != "use"}, scheme_path, variables)

    # -- expressions --------------------------------------------------------------------
    def loose(self, value: Any, path: str, variables: frozenset[str]) -> None:
        """A field that is always an expression, with or without ``${ }``."""
        if isinstance(value, str):
            self.expression(expression_body(value), path, variables)

    def strict_leaves(self, value: Any, path: str, variables: frozenset[str]) -> None:
        """Data in which any string wholly in ``${ }`` is an expression."""
        if isinstance(value, str):
            body = strict_body(value)
            if body is not None:
                self.expression(body, path, variables)
        elif isinstance(value, dict):
            for name, item in value.items():
                self.strict_leaves(item, key(path, name), variables)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.strict_leaves(item, index(path, i), variables)

    def expression(self, body: str, path: str, variables: frozenset[str]) -> None:
        limits = self.limits
        if len(body) > limits.max_expression_length:
            self.error(path, f"the expression is longer than {limits.max_expression_length:,} characters")
            return
        self.expressions_length += len(body)
        if self.expressions_length > limits.max_expressions_length:
            if not self.over_budget:
                self.over_budget = True
                message = (
                    f"the document's expressions are longer than {limits.max_expressions_length:,} "
                    "characters together; the rest are not compiled"
                )
                self.error(path, message)
            return
        problem = jq_compile_error(body, variables)
        if problem is not None:
            self.error(path, f"invalid jq expression: {problem}")
        if self.secrets is not None and "$secrets" in body:
            for match in _SECRET_REFERENCE.finditer(body):
                name = match.group(1) or match.group(2)
                if name not in self.secrets:
                    self.error(path, f"secret '{name}' is not declared in use.secrets")


def _compensation_handlers(raw: dict[str, Any]) -> frozenset[str]:
    """Names that some task's ``metadata`` gives as its compensating function, anywhere."""
    found: set[str] = set()
    stack: list[Any] = [raw]
    while stack:  # iterative: documents may be nested as deep as the loader allows
        value = stack.pop()
        if isinstance(value, dict):
            metadata = value.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get(COMPENSATE_KEY), str):
                found.add(metadata[COMPENSATE_KEY])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return frozenset(found)


def _reads_compensation(value: Any) -> bool:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and _COMPENSATION_REFERENCE.search(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def semantic_problems(
    raw: dict[str, Any], *, file: str | None = None, limits: LoadLimits = DEFAULT_LIMITS
) -> list[Problem]:
    return _Checker(raw, file, limits).run()
