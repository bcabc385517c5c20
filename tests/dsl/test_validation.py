"""validate(): every problem at once, each with the author's path and a plain message."""

from __future__ import annotations

from typing import Any

import pytest

from baton.dsl import Document, DocumentError, LoadLimits, Problem, read_document, support, validate

from .conftest import ctk_workflows, specification_examples

HEADER = {"dsl": "1.0.3", "namespace": "default", "name": "checks", "version": "1.0.0"}


def doc(*tasks: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"document": HEADER, **sections, "do": list(tasks)}


def found(raw: Any) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in validate(raw)]


def errors(raw: Any) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in validate(raw) if p.severity == "error"]


def test_a_valid_document_has_no_problems() -> None:
    assert validate(doc({"hello": {"set": {"greeting": "${ .name }"}}})) == []


def test_a_typed_document_is_validated_from_its_raw_data() -> None:
    document = Document.from_raw(doc({"a": {"set": {"x": 1}, "then": "nowhere"}}))
    assert [(p.path, p.severity) for p in validate(document)] == [("do[0].a.then", "error")]


def test_schema_errors_name_the_task_and_property_in_the_authors_terms() -> None:
    raw = doc(
        {"first": {"set": {"a": 1}}},
        {"second": {"set": {"a": 1}}},
        {"fetchUser": {"call": "http", "with": {"method": "get"}}},
    )
    assert found(raw) == [("do[2].fetchUser.with", "missing required property 'endpoint'")]


def test_an_unknown_property_is_named_with_a_suggestion() -> None:
    raw = doc({"fetch": {"call": "http", "wiht": {"method": "get", "endpoint": "https://x.example"}}})
    assert found(raw) == [
        ("do[0].fetch", "missing required property 'with'"),
        ("do[0].fetch.wiht", "unknown property 'wiht' (did you mean 'with'?)"),
    ]


def test_a_union_of_task_kinds_reports_only_the_kind_the_author_wrote() -> None:
    raw = doc({"pause": {"wait": 5}})
    assert found(raw) == [
        (
            "do[0].pause.wait",
            "must be an ISO 8601 duration such as PT30S or P1DT2H, a runtime expression, "
            "or an object such as {seconds: 30}",
        )
    ]


def test_a_task_with_two_kinds_is_reported_as_such() -> None:
    assert found(doc({"both": {"set": {"a": 1}, "wait": "PT1S"}})) == [
        ("do[0].both", "a task has exactly one kind; found both 'set' and 'wait'")
    ]


def test_a_task_without_a_kind_lists_the_kinds() -> None:
    assert found(doc({"nothing": {"then": "end"}})) == [
        (
            "do[0].nothing",
            "a task needs one of: call, do, emit, for, fork, listen, raise, run, set, switch, try, wait",
        )
    ]


def test_a_task_list_entry_must_have_exactly_one_name() -> None:
    assert found(doc({"a": {"set": {"x": 1}}, "b": {"set": {"x": 2}}})) == [
        (
            "do[0]",
            "must have exactly one key, the task's name, but has 2 (a, b); "
            "is the task indented under its name?",
        )
    ]
    assert found(doc("a")) == [("do[0]", "must be a mapping with exactly one key: the task's name")]


def test_a_misindented_task_body_is_pointed_out() -> None:
    raw = read_document(
        "document: {dsl: 1.0.3, namespace: d, name: n, version: 1.0.0}\ndo:\n  - next:\n    set: {a: 1}\n"
    )
    assert found(raw) == [
        (
            "do[0]",
            "must have exactly one key, the task's name, but has 2 (next, set); "
            "is the task indented under its name?",
        )
    ]


def test_a_miscapitalised_property_is_suggested_in_the_right_case() -> None:
    assert ("Do", "unknown property 'Do' (did you mean 'do'?)") in found({"document": HEADER, "Do": []})


def test_numbers_where_strings_belong_suggest_quoting() -> None:
    raw = {"document": {**HEADER, "version": 1.0}, "do": [{"a": {"set": {"x": 1}}}]}
    assert found(raw) == [("document.version", "must be a string, not a number (quote it in YAML)")]


def test_an_empty_yaml_value_is_not_an_absent_one() -> None:
    assert found(doc({"a": {"set": {"x": 1}, "then": None}})) == [
        ("do[0].a.then", "must not be empty (null)")
    ]


def test_enumerations_list_the_allowed_values() -> None:
    raw = doc(
        {"a": {"call": "http", "with": {"method": "get", "endpoint": "https://x.example", "output": "body"}}}
    )
    assert found(raw) == [("do[0].a.with.output", "must be one of: raw, content, response, not 'body'")]


def test_every_problem_is_reported_at_once_in_document_order() -> None:
    raw = doc(
        {"a": {"set": {"x": "${ .a +* }"}, "then": "nowhere"}},
        {"a": {"wait": "soon"}},
        {"c": {"raise": {"error": "missing"}}},
    )
    assert found(raw) == [
        ("do[0].a.set.x", "invalid jq expression: syntax error, unexpected '*'"),
        (
            "do[0].a.then",
            "'nowhere' is not a task in the same list; expected one of: continue, exit, end, a, c",
        ),
        ("do[1].a", "duplicate task name 'a' (first used at do[0].a)"),
        (
            "do[1].a.wait",
            "must be an ISO 8601 duration such as PT30S or P1DT2H, a runtime expression, "
            "or an object such as {seconds: 30}",
        ),
        ("do[2].c.raise.error", "error 'missing' is not declared in use.errors"),
    ]


def test_flow_targets_must_be_in_the_same_list_not_an_outer_one() -> None:
    raw = doc(
        {"outer": {"do": [{"inner": {"set": {"x": 1}, "then": "after"}}]}},
        {"after": {"set": {"y": 1}}},
    )
    assert found(raw) == [
        (
            "do[0].outer.do[0].inner.then",
            "'after' is not a task in the same list; expected one of: continue, exit, end, inner",
        )
    ]


@pytest.mark.parametrize("directive", ["continue", "exit", "end"])
def test_flow_directives_are_not_task_names(directive: str) -> None:
    assert validate(doc({"a": {"set": {"x": 1}, "then": directive}})) == []


def test_switch_cases_jump_to_tasks_of_the_switchs_list() -> None:
    raw = doc(
        {"route": {"switch": [{"big": {"when": ".n > 1", "then": "large"}}, {"other": {"then": "small"}}]}},
        {"large": {"set": {"size": "large"}}},
    )
    assert found(raw) == [
        (
            "do[0].route.switch[1].other.then",
            "'small' is not a task in the same list; expected one of: continue, exit, end, route, large",
        )
    ]


def test_duplicate_names_are_checked_in_nested_lists_and_branches() -> None:
    raw = doc({"f": {"fork": {"branches": [{"b": {"set": {"x": 1}}}, {"b": {"set": {"x": 2}}}]}}})
    assert found(raw) == [
        ("do[0].f.fork.branches[1].b", "duplicate task name 'b' (first used at do[0].f.fork.branches[0].b)")
    ]


def test_every_use_reference_must_be_declared() -> None:
    raw = doc(
        {
            "call1": {
                "call": "http",
                "with": {
                    "method": "get",
                    "endpoint": {"uri": "https://x.example", "authentication": {"use": "auth"}},
                },
            }
        },
        {"t": {"set": {"x": 1}, "timeout": "quick"}},
        {"r": {"try": [{"x": {"set": {"x": 1}}}], "catch": {"retry": "again"}}},
        {"f": {"call": "helper"}},
        {"e": {"raise": {"error": "oops"}}},
        use={"secrets": ["token"]},
        timeout="slow",
    )
    assert found(raw) == [
        ("timeout", "timeout 'slow' is not declared in use.timeouts"),
        (
            "do[0].call1.with.endpoint.authentication.use",
            "authentication 'auth' is not declared in use.authentications",
        ),
        ("do[1].t.timeout", "timeout 'quick' is not declared in use.timeouts"),
        ("do[2].r.catch.retry", "retry policy 'again' is not declared in use.retries"),
        ("do[3].f.call", "function 'helper' is not declared in use.functions"),
        ("do[4].e.raise.error", "error 'oops' is not declared in use.errors"),
    ]


def test_declared_references_resolve() -> None:
    raw = doc(
        {
            "c": {
                "call": "http",
                "with": {
                    "method": "get",
                    "endpoint": {"uri": "https://x.example", "authentication": {"use": "auth"}},
                },
            }
        },
        {"t": {"set": {"x": "${ $secrets.token }"}, "timeout": "quick"}},
        {"r": {"try": [{"x": {"set": {"x": 1}}}], "catch": {"retry": "again"}}},
        {"f": {"call": "helper", "with": {"id": 1}}},
        {"e": {"raise": {"error": "oops"}}},
        use={
            "authentications": {"auth": {"bearer": {"use": "token"}}},
            "errors": {"oops": {"type": "https://example.com/oops", "status": 500}},
            "functions": {
                "helper": {"call": "http", "with": {"method": "get", "endpoint": "https://x.example"}}
            },
            "retries": {"again": {"delay": "PT1S", "limit": {"attempt": {"count": 3}}}},
            "secrets": ["token"],
            "timeouts": {"quick": {"after": "PT1S"}},
        },
    )
    assert validate(raw) == []


def test_secrets_must_be_declared_when_use_secrets_is() -> None:
    raw = doc(
        {"a": {"set": {"x": "${ $secrets.apiKey }", "y": '${ $secrets["other"] }'}}},
        use={"secrets": ["token"]},
    )
    assert found(raw) == [
        ("do[0].a.set.x", "secret 'apiKey' is not declared in use.secrets"),
        ("do[0].a.set.y", "secret 'other' is not declared in use.secrets"),
    ]


def test_a_secret_based_authentication_needs_its_secret_declared() -> None:
    raw = doc(
        {
            "c": {
                "call": "http",
                "with": {
                    "method": "get",
                    "endpoint": {"uri": "https://x.example", "authentication": {"basic": {"use": "creds"}}},
                },
            }
        }
    )
    assert found(raw) == [
        ("do[0].c.with.endpoint.authentication.basic.use", "secret 'creds' is not declared in use.secrets")
    ]


def test_expressions_compile_with_the_loop_and_catch_variables_in_scope() -> None:
    raw = doc(
        {
            "loop": {
                "for": {"each": "pet", "in": ".pets", "at": "n"},
                "while": "$n < 3",
                "do": [{"t": {"set": {"p": "${ $pet }"}}}],
            }
        },
        {
            "guard": {
                "try": [{"x": {"set": {"x": 1}}}],
                "catch": {
                    "as": "failure",
                    "when": "$failure.status > 400",
                    "do": [{"y": {"set": {"e": "${ $failure }"}}}],
                },
            }
        },
        {"after": {"set": {"p": "${ $pet }"}}},
    )
    assert found(raw) == [("do[2].after.set.p", "invalid jq expression: $pet is not defined")]


def test_loose_fields_are_expressions_without_dollar_braces() -> None:
    raw = doc({"a": {"if": ".a ==", "set": {"x": 1}, "output": {"as": "{ x: }"}}})
    assert found(raw) == [
        ("do[0].a.if", "invalid jq expression: syntax error, unexpected end of file"),
        ("do[0].a.output.as", "invalid jq expression: syntax error, unexpected '}'"),
    ]


def test_strict_fields_treat_plain_strings_as_data() -> None:
    assert validate(doc({"a": {"set": {"text": ".a ==", "braces": "{not jq}"}}})) == []


def test_durations_must_not_be_negative() -> None:
    raw = doc(
        {"a": {"wait": {"seconds": -5}}}, {"b": {"set": {"x": 1}, "timeout": {"after": {"minutes": -1}}}}
    )
    assert found(raw) == [
        ("do[0].a.wait.seconds", "a duration must not be negative"),
        ("do[1].b.timeout.after.minutes", "a duration must not be negative"),
    ]


def test_what_baton_does_not_run_is_reported_as_unsupported_with_its_path() -> None:
    raw = doc(
        {
            "fetchUser": {
                "call": "grpc",
                "with": {
                    "proto": {"endpoint": "https://x.example/p"},
                    "service": {"name": "s", "host": "h"},
                    "method": "m",
                },
            }
        },
        {"sh": {"run": {"shell": {"command": "ls"}}}},
        {"wait4": {"listen": {"to": {"one": {"with": {"type": "t"}, "correlate": {"id": {"from": ".id"}}}}}}},
        {"agent": {"call": "a2a", "with": {"method": "message/send"}}},
    )
    problems = validate(raw)
    assert [(p.path, p.message, p.severity) for p in problems] == [
        ("do[0].fetchUser.call", "call: grpc is not supported by Baton", "unsupported"),
        ("do[1].sh.run.shell", "run: shell is not supported by Baton", "unsupported"),
        ("do[2].wait4.listen.to.one.correlate", "event correlation is not supported by Baton", "unsupported"),
        ("do[3].agent.call", "call: a2a is not supported by Baton", "unsupported"),
    ]


def test_a_function_is_as_supported_as_the_task_it_stands_for() -> None:
    use = {
        "functions": {
            "ok": {"call": "http", "with": {"method": "get", "endpoint": "https://x.example"}},
            "script": {"run": {"script": {"language": "js", "code": "1"}}},
        }
    }
    raw = doc({"a": {"call": "ok"}}, {"b": {"call": "script"}}, use=use)
    assert [(p.path, p.message, p.severity) for p in validate(raw)] == [
        ("do[1].b.call", "function 'script': run: script is not supported by Baton", "unsupported")
    ]


def test_an_unsupported_authentication_is_reported_where_it_is_used() -> None:
    raw = doc(
        {
            "c": {
                "call": "http",
                "with": {
                    "method": "get",
                    "endpoint": {"uri": "https://x.example", "authentication": {"use": "d"}},
                },
            }
        },
        use={"authentications": {"d": {"digest": {"username": "u", "password": "p"}}}},
    )
    assert [(p.path, p.severity) for p in validate(raw)] == [
        ("do[0].c.with.endpoint.authentication.use", "unsupported")
    ]


def test_problems_carry_the_file_they_came_from() -> None:
    (problem,) = validate(doc({"a": {"set": {"x": 1}, "then": "x"}}), file="flows/a.yaml")
    assert problem == Problem(
        "do[0].a.then",
        "'x' is not a task in the same list; expected one of: continue, exit, end, a",
        "flows/a.yaml",
    )
    assert str(problem).startswith("flows/a.yaml: do[0].a.then: ")


def test_odd_keys_are_quoted_in_paths() -> None:
    raw = doc({"a": {"set": {"weird.key": "${ .a +* }"}}})
    assert found(raw) == [('do[0].a.set["weird.key"]', "invalid jq expression: syntax error, unexpected '*'")]


def test_what_is_supported_is_decided_by_the_support_module_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = doc(
        {"hear": {"listen": {"to": {"one": {"with": {"type": "t"}}}}, "foreach": {"item": "e", "do": []}}},
        {
            "grpc": {
                "call": "grpc",
                "with": {
                    "proto": {"endpoint": "https://x.example/p"},
                    "service": {"name": "s", "host": "h"},
                    "method": "m",
                },
            }
        },
    )
    assert [p.severity for p in validate(raw)] == ["unsupported", "unsupported"]
    monkeypatch.setattr(support, "LISTEN_FOREACH", True)
    monkeypatch.setattr(support, "SUPPORTED_CALLS", support.SUPPORTED_CALLS | {"grpc"})
    assert validate(raw) == []


def test_listen_tasks_are_checked_including_the_parts_baton_does_not_run() -> None:
    raw = doc(
        {
            "hear": {
                "listen": {
                    "to": {"any": [{"with": {"type": "t", "data": "${ .a +* }"}}], "until": ".done =="}
                },
                "foreach": {
                    "item": "event",
                    "do": [{"keep": {"set": {"e": "${ $event }", "f": "${ $evnt }"}}}],
                },
            }
        }
    )
    assert errors(raw) == [
        ("do[0].hear.listen.to.any[0].with.data", "invalid jq expression: syntax error, unexpected '*'"),
        ("do[0].hear.listen.to.until", "invalid jq expression: syntax error, unexpected end of file"),
        ("do[0].hear.foreach.do[0].keep.set.f", "invalid jq expression: $evnt is not defined"),
    ]


def test_a_value_of_the_wrong_type_gets_one_message_not_one_per_alternative() -> None:
    raw = doc({"agent": {"call": "a2a", "with": {"method": "message/send", "parameters": 5}}})
    assert errors(raw) == [
        ("do[0].agent.with.parameters", "must be a mapping of parameters, or a runtime expression")
    ]


def test_a_switch_has_at_most_one_default_case() -> None:
    raw = doc(
        {
            "route": {
                "switch": [
                    {"a": {"then": "end"}},
                    {"b": {"when": ".x", "then": "end"}},
                    {"c": {"then": "exit"}},
                ]
            }
        }
    )
    assert errors(raw) == [
        (
            "do[0].route.switch[2].c",
            "only one case may omit 'when' (the default); do[0].route.switch[0].a does",
        )
    ]


def test_durations_from_expressions_are_run_only_in_wait() -> None:
    raw = doc(
        {"pause": {"wait": "${ .delay }"}},
        {"slow": {"set": {"x": 1}, "timeout": {"after": "${ .limit }"}}},
    )
    assert [(p.path, p.message, p.severity) for p in validate(raw)] == [
        (
            "do[1].slow.timeout.after",
            "a duration computed by an expression is supported only in wait",
            "unsupported",
        )
    ]


def test_an_emit_without_event_properties_cannot_be_run() -> None:
    assert [(p.path, p.severity) for p in validate(doc({"tell": {"emit": {"event": {}}}}))] == [
        ("do[0].tell.emit.event", "unsupported")
    ]


def test_another_expression_language_cannot_be_run() -> None:
    problems = validate(doc({"a": {"set": {"x": 1}}}, evaluate={"language": "js"}))
    assert [(p.path, p.message, p.severity) for p in problems] == [
        ("evaluate.language", "expression language 'js' is not supported by Baton (jq)", "unsupported")
    ]


def test_openapi_calls_are_run_and_their_parameters_checked() -> None:
    raw = doc(
        {
            "find": {
                "call": "openapi",
                "with": {
                    "document": {"endpoint": "https://petstore.example.com/openapi.json"},
                    "operationId": "findPets",
                    "parameters": {"status": "${ .status +* }"},
                },
            }
        }
    )
    assert [(p.path, p.severity) for p in validate(raw)] == [("do[0].find.with.parameters.status", "error")]


def test_catalog_and_url_functions_are_checked_and_reported_as_not_run() -> None:
    raw = doc(
        {"a": {"call": "log:0.5.2@global"}},
        {"b": {"call": "log:1.0.0@default"}},
        {"c": {"call": "log:1.0.0@elsewhere"}},
        {"d": {"call": "https://github.com/org/functions/validate@v1.0.0"}},
        use={"catalogs": {"global": {"endpoint": "https://catalog.example.com"}}},
    )
    assert [(p.path, p.message, p.severity) for p in validate(raw)] == [
        (
            "use.catalogs",
            "catalogs are not supported by Baton (functions must be in use.functions)",
            "unsupported",
        ),
        ("do[0].a.call", "functions from catalogs are not supported by Baton", "unsupported"),
        ("do[1].b.call", "functions from catalogs are not supported by Baton", "unsupported"),
        ("do[2].c.call", "catalog 'elsewhere' is not declared in use.catalogs", "error"),
        ("do[3].d.call", "functions fetched from a URL are not supported by Baton", "unsupported"),
    ]


def test_the_specifications_examples_and_the_conformance_kit_have_no_errors_only_unsupported_parts() -> None:
    sources = specification_examples() + ctk_workflows()
    if not sources:
        pytest.skip("the specification is not in ../shared")
    errors_found = []
    for name, text in sources:
        try:
            raw = read_document(text)
        except DocumentError:
            continue  # one example is not YAML; see test_schema_parity
        errors_found += [(name, p.path, p.message) for p in validate(raw) if p.severity == "error"]
    assert errors_found == []


@pytest.mark.timeout(60)
def test_an_oversized_expression_is_refused_before_jq_sees_it() -> None:
    # 250 KB of ``.a + .a`` crashes libjq's compiler and 16 KB takes most of a second.
    huge = "${ " + " + ".join([".a"] * 50_000) + " }"
    assert errors(doc({"a": {"set": {"x": huge}}})) == [
        ("do[0].a.set.x", "the expression is longer than 8,192 characters")
    ]


@pytest.mark.timeout(60)
def test_the_expressions_of_a_document_have_a_total_budget() -> None:
    expression = "${ " + " + ".join([".a"] * 1_500) + " }"
    raw = doc(*({f"t{i}": {"set": {"x": expression}}} for i in range(60)))
    found_errors = errors(raw)
    assert len(found_errors) == 1
    path, message = found_errors[0]
    assert (
        message
        == "the document's expressions are longer than 262,144 characters together; the rest are not compiled"
    )
    assert path.startswith("do[")


def test_the_expression_bounds_are_configurable() -> None:
    limits = LoadLimits(max_expression_length=5)
    assert [p.message for p in validate(doc({"a": {"set": {"x": "${ .abcdef }"}}}), limits=limits)] == [
        "the expression is longer than 5 characters"
    ]
