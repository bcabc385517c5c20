"""``baton run FILE --input JSON [--timeline]``: execute one workflow locally, no cluster.

FILE is what ``baton validate`` reads: a bare DSL document or a Baton ``Workflow`` manifest
(the document under ``spec.workflow``), so the manifest a cluster runs also runs here. Its
first workflow runs; the file's other documents and ``--catalog`` are what ``run: workflow``
may reach.

Exit codes: 0 the run completed (its output on stdout, as JSON); 1 it faulted (the problem
details on stderr, never a traceback); 2 the document is invalid (the same messages as
``baton validate``) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from baton import dsl
from baton.cli.validate import embedded_documents, validate_paths
from baton.engine import (
    Catalog,
    CompileError,
    Limits,
    RunEnvironment,
    RunResult,
    TaskRecord,
    compile_workflow,
)
from baton.json_text import JsonTextError, parse_json

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a workflow locally and print its output",
        description=(
            "Run one workflow (a DSL document, or a Baton Workflow manifest's spec.workflow) "
            "locally and print its output as JSON."
        ),
    )
    parser.add_argument("file", type=Path, help="workflow document or Baton Workflow manifest (YAML or JSON)")
    parser.add_argument(
        "--input",
        default="null",
        help="run input as JSON, or @FILE to read it from a JSON/YAML file (default: null)",
    )
    parser.add_argument("--timeline", action="store_true", help="also print the run's timeline")
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="json: print the whole run result as one object",
    )
    parser.add_argument("--secrets", type=Path, help="JSON/YAML file mapping secret names to values")
    parser.add_argument(
        "--map-host",
        action="append",
        default=[],
        metavar="HOST=URL",
        help="send requests for HOST to URL instead (e.g. petstore.swagger.io=http://127.0.0.1:8081)",
    )
    parser.add_argument(
        "--catalog",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="workflow file or folder that `run: workflow` tasks may run",
    )
    parser.add_argument(
        "--max-steps", type=_positive, default=Limits().max_steps, help="step budget of the run (>= 1)"
    )
    parser.set_defaults(func=_main)


def _fail(message: str, code: int) -> int:
    print(f"baton run: {message}", file=sys.stderr)
    return code


def _read_data(text: str, *, what: str) -> Any:
    """A JSON value given inline, or (``@FILE``) read under the bounds documents are read with."""
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            found = dsl.read_documents(path, origin=f"{what} file {path}")
        except dsl.DocumentError as exc:
            raise ValueError("; ".join(str(problem) for problem in exc.problems)) from None
        if len(found) > 1:
            raise ValueError(f"{what} file {path}: holds {len(found)} YAML documents, not one value")
        return found[0] if found else None
    try:
        return parse_json(text)
    except JsonTextError as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


class _WithoutTraceback(logging.Formatter):
    """The engine logs an unexpected exception with its traceback for operators; the CLI's
    user gets the fault as problem details and the log line alone."""

    def formatException(self, ei: Any) -> str:
        return ""


def _workflows(path: Path) -> list[Mapping[str, Any]]:
    """The DSL documents of a file or folder that validation passed, in the order they stand.

    Manifests are unwrapped by ``baton validate``'s own extraction, so that whatever it
    accepts (a bare document, a ``Workflow`` manifest, a multi-document stream) runs alike.
    """
    files = (
        sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file())
        if path.is_dir()
        else [path]
    )
    found: list[Mapping[str, Any]] = []
    for file in files:
        for item in dsl.read_documents(file, origin=str(file)):
            if isinstance(item, dict):
                found.extend(
                    doc for _, doc in embedded_documents(item, str(file))[0] if isinstance(doc, dict)
                )
    return found


def _load(file: Path, catalog: list[Path]) -> tuple[Mapping[str, Any], Catalog]:
    """The workflow to run (the file's first) and every document ``run: workflow`` may reach.

    Raises ``_Invalid`` with ``baton validate``'s messages (manifest problems carry their
    ``spec.workflow.`` prefix) when any of them is not runnable.
    """
    _, problems = validate_paths([file, *catalog])
    if problems:
        raise _Invalid([str(problem) for problem in problems])
    try:
        own = _workflows(file)
        others = [document for path in catalog for document in _workflows(path)]
    except dsl.DocumentError as exc:  # changed on disk since it was validated
        raise _Invalid([str(problem) for problem in exc.problems]) from None
    if not own:
        raise _Invalid([f"{file}: holds no workflow to run (a DSL document or a Baton Workflow manifest)"])
    # The run's own document is added last so that it wins over a same-named one elsewhere.
    return own[0], Catalog([*others, *own[1:], own[0]])


class _Invalid(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(messages[0])
        self.messages = messages


def _main(args: argparse.Namespace) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_WithoutTraceback("baton run: %(message)s"))
    logger = logging.getLogger("baton")
    logger.addHandler(handler)
    try:
        return _execute(args)
    except Exception as exc:  # the boundary: a bug must still not show a user a traceback
        return _fail(f"internal error ({type(exc).__name__}): {exc}", 2)
    finally:
        logger.removeHandler(handler)


def _execute(args: argparse.Namespace) -> int:
    try:
        run_input = _read_data(args.input, what="--input")
        secrets = _read_data(f"@{args.secrets}", what="--secrets") if args.secrets else {}
    except ValueError as exc:
        return _fail(str(exc), 2)
    if not isinstance(secrets, dict):
        return _fail("--secrets must hold an object of names to values", 2)
    host_map: dict[str, str] = {}
    for mapping in args.map_host:
        host, sep, url = mapping.partition("=")
        if not sep or not host or not url.startswith(("http://", "https://")):
            return _fail(f"--map-host expects HOST=http(s)://..., got {mapping!r}", 2)
        host_map[host] = url
    if args.file.is_dir():
        return _fail(f"{args.file}: is a folder; give the one workflow file to run", 2)
    if not args.file.exists():
        return _fail(f"{args.file}: no such file", 2)
    try:
        document, catalog = _load(args.file, list(args.catalog))
        compiled = compile_workflow(document, catalog=catalog, limits=Limits(max_steps=args.max_steps))
    except _Invalid as exc:
        for line in exc.messages:
            print(line, file=sys.stderr)
        return 2
    except CompileError as exc:  # only a limit given here can refuse what validation passed
        for path, message in exc.problems:
            print(f"{args.file}: {path}: {message}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(_run(compiled, run_input, secrets=secrets, host_map=host_map))
    except KeyboardInterrupt:
        return _fail("interrupted: the run was cancelled (its calls and timers stopped)", 130)
    try:
        return _report(result, args)
    except BrokenPipeError:
        # The reader went away (``| head``): nothing left to tell it, and no traceback either.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0 if result.status == "completed" else 1


async def _run(
    compiled: Any, run_input: Any, *, secrets: dict[str, Any], host_map: dict[str, str]
) -> RunResult:
    async with RunEnvironment(secrets=secrets, host_map=host_map) as env:
        result: RunResult = await compiled.run(run_input, env=env)
        return result


def _report(result: RunResult, args: argparse.Namespace) -> int:
    code = 0 if result.status == "completed" else 1
    if args.output == "json":
        try:
            text = json.dumps(result.to_dict(timeline=args.timeline), indent=2, default=str)
        except RecursionError:
            # Task inputs and outputs are not depth-guarded like the run's own; rather than half a
            # JSON document, the result without its timeline.
            _fail("the timeline holds a value nested too deeply to print; left out", code)
            text = json.dumps(result.to_dict(timeline=False), indent=2, default=str)
        sys.stdout.write(text + "\n")
        return code
    if args.timeline:
        _print_timeline(result, sys.stderr)
    if result.status == "completed":
        sys.stdout.write(json.dumps(result.output, indent=2, default=str) + "\n")
    elif result.error is not None:
        print(f"run {result.status}: {result.error}", file=sys.stderr)
        json.dump(result.error.to_dict(), sys.stderr, indent=2)
        sys.stderr.write("\n")
    else:
        print(f"run {result.status}", file=sys.stderr)
    return code


def _print_timeline(result: RunResult, stream: TextIO) -> None:
    rows = [("#", "task", "kind", "status", "tries", "ms", "notes")]
    first = result.started_at
    for index, record in enumerate(result.timeline, 1):
        rows.append(
            (
                str(index),
                record.path,
                record.kind,
                record.status,
                str(record.attempts),
                f"{(record.duration_ms or 0.0):.1f}",
                _notes(record),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        stream.write("  ".join([*cells, row[-1]]).rstrip() + "\n")
    for compensation in result.compensations:
        note = (
            "" if compensation.error is None else f"  {compensation.error.get('title') or compensation.error}"
        )
        stream.write(
            f"compensated {compensation.compensated} with {compensation.handler}: "
            f"{compensation.status}{note}\n"
        )
    stream.write(f"run {result.run_id} {result.status} in {(result.ended_at - first) * 1000:.1f} ms\n")


def _notes(record: TaskRecord) -> str:
    parts: list[str] = []
    if record.decision:
        parts.append(", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in record.decision.items()))
    if record.error:
        parts.append(
            f"error {record.error.get('status')} {record.error.get('title') or record.error.get('type')}"
        )
    return "; ".join(parts)
