"""``baton run FILE --input JSON [--timeline]``: execute one workflow locally, no cluster.

Exit codes: 0 the run completed (its output on stdout, as JSON); 1 it faulted (the problem
details on stderr, never a traceback); 2 the document is invalid (the same messages as
``baton validate``) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from baton.engine import (
    Catalog,
    CompileError,
    Limits,
    RunEnvironment,
    RunResult,
    TaskRecord,
    compile_workflow,
)

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a workflow locally and print its output",
        description="Run one workflow document locally and print its output as JSON.",
    )
    parser.add_argument("file", type=Path, help="workflow document (YAML or JSON)")
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
    parser.add_argument("--max-steps", type=int, default=Limits().max_steps, help="step budget of the run")
    parser.set_defaults(func=_main)


def _fail(message: str, code: int) -> int:
    print(f"baton run: {message}", file=sys.stderr)
    return code


def _read_data(text: str, *, what: str) -> Any:
    import yaml

    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text()
        except OSError as exc:
            raise ValueError(f"cannot read {what} file {path}: {exc.strerror}") from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{what} file {path} is not JSON or YAML: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from exc


def _load(paths: list[Path]) -> tuple[list[Any], list[str]]:
    """Documents from files/folders via baton.dsl, and the messages of any invalid ones."""
    from baton import dsl

    documents: list[Any] = []
    messages: list[str] = []
    for path in paths:
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
            if path.is_dir()
            else [path]
        )
        for file in files:
            try:
                document = dsl.load_document(file, origin=str(file))
            except dsl.DocumentError as exc:
                messages.extend(str(problem) for problem in exc.problems)
                continue
            problems = dsl.validate(document, file=str(file))
            if problems:
                messages.extend(str(problem) for problem in problems)
            else:
                documents.append(document)
    return documents, messages


def _main(args: argparse.Namespace) -> int:
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
    if not args.file.is_file():
        return _fail(f"{args.file}: no such file", 2)
    documents, messages = _load([args.file])
    catalog_documents, catalog_messages = _load(list(args.catalog))
    messages += catalog_messages
    if messages:
        for line in messages:
            print(line, file=sys.stderr)
        return 2
    catalog = Catalog([*documents, *catalog_documents])
    limits = Limits(max_steps=args.max_steps)
    try:
        compiled = compile_workflow(documents[0], catalog=catalog, limits=limits)
    except CompileError as exc:
        for path, message in exc.problems:
            print(f"{args.file}: {path}: {message}", file=sys.stderr)
        return 2
    result = asyncio.run(_run(compiled, run_input, secrets=secrets, host_map=host_map))
    return _report(result, args)


async def _run(
    compiled: Any, run_input: Any, *, secrets: dict[str, Any], host_map: dict[str, str]
) -> RunResult:
    async with RunEnvironment(secrets=secrets, host_map=host_map) as env:
        result: RunResult = await compiled.run(run_input, env=env)
        return result


def _report(result: RunResult, args: argparse.Namespace) -> int:
    code = 0 if result.status == "completed" else 1
    if args.output == "json":
        json.dump(result.to_dict(timeline=args.timeline), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return code
    if args.timeline:
        _print_timeline(result, sys.stderr)
    if result.status == "completed":
        json.dump(result.output, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
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
