"""``baton graph FILE [--format mermaid|dot]``: draw a workflow's control flow.

FILE is a Workflow manifest or a bare Serverless Workflow document. Tasks are nodes in
declaration order; ``then`` jumps, switch cases (labelled with their ``when``), fork branches
and their join, ``for`` loops and ``try``/``catch`` are edges and groups. The drawing reads the
document's structure only: nothing is compiled or run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baton import dsl

__all__ = ["Graph", "build_graph", "register", "render_dot", "render_mermaid"]

START = "wf_start"
END = "wf_end"
_KINDS = ("call", "do", "emit", "for", "fork", "listen", "raise", "run", "set", "switch", "try", "wait")


@dataclass
class Graph:
    title: str
    nodes: dict[str, str] = field(default_factory=dict)  # id -> label
    shapes: dict[str, str] = field(default_factory=dict)  # id -> "round" | "diamond" | "circle"
    edges: list[tuple[str, str, str, bool]] = field(default_factory=list)  # src, dst, label, dashed
    #: id -> (label, enclosing group id or None); nodes and groups belong to their innermost group.
    groups: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)  # node id -> group id


def _kind(task: Mapping[str, Any]) -> str:
    return next((k for k in _KINDS if k in task), "task")


def _label(name: str, task: Mapping[str, Any]) -> str:
    kind = _kind(task)
    if kind == "call":
        target = task.get("call")
        args = task.get("with") or {}
        if target in ("http", "openapi", "grpc", "asyncapi", "a2a") and isinstance(args, Mapping):
            method = str(args.get("method", "")).upper()
            endpoint = args.get("endpoint")
            uri = endpoint.get("uri") if isinstance(endpoint, Mapping) else endpoint
            detail = f"{method} {uri}".strip() if target == "http" else f"{target}"
            return f"{name}\ncall {detail}"
        return f"{name}\ncall {target}"
    if kind == "for":
        spec = task.get("for") or {}
        return f"{name}\nfor {spec.get('each', 'item')} in {spec.get('in', '')}"
    if kind == "run":
        spec = task.get("run") or {}
        what = next((k for k in ("workflow", "container", "script", "shell") if k in spec), "")
        return f"{name}\nrun {what}"
    return f"{name}\n{kind}"


class _Builder:
    def __init__(self, title: str) -> None:
        self.graph = Graph(title)
        # Not `end`: it is a Mermaid keyword.
        for node_id in (START, END):
            self.graph.nodes[node_id] = node_id.removeprefix("wf_")
            self.graph.shapes[node_id] = "circle"
            self.graph.parents[node_id] = None

    def _node(self, node_id: str, label: str, shape: str, group: str | None) -> str:
        self.graph.nodes[node_id] = label
        self.graph.shapes[node_id] = shape
        self.graph.parents[node_id] = group
        return node_id

    def task_list(
        self, items: Any, prefix: str, group: str | None
    ) -> tuple[str | None, list[tuple[str, str]]]:
        """Entry node of a task list, and its exits: (node, edge label) leaving the list's end."""
        if not isinstance(items, list) or not items:
            return None, []
        built: list[tuple[str, str, Mapping[str, Any], str, list[tuple[str, str]]]] = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or len(item) != 1:
                continue
            ((name, task),) = item.items()
            if not isinstance(task, Mapping):
                continue
            node_prefix = f"{prefix}_{index}"
            entry, exits = self.task(str(name), task, node_prefix, group)
            built.append((str(name), entry, task, node_prefix, exits))
        by_name = {name: entry for name, entry, *_ in built}
        list_exits: list[tuple[str, str]] = []
        for position, (_, _, task, _, exits) in enumerate(built):
            following = built[position + 1][1] if position + 1 < len(built) else None
            for source, label in exits:
                directive = task.get("then") if _kind(task) != "switch" else label.partition("\0")[2] or None
                text = label.partition("\0")[0]
                if directive in (None, "continue"):
                    if following is None:
                        list_exits.append((source, text))
                    else:
                        self.graph.edges.append((source, following, text, False))
                elif directive == "end":
                    self.graph.edges.append((source, END, text, False))
                elif directive == "exit":
                    list_exits.append((source, text))
                elif directive in by_name:
                    self.graph.edges.append((source, by_name[directive], text, False))
                else:
                    list_exits.append((source, text))
        return (built[0][1] if built else None), list_exits

    def task(
        self, name: str, task: Mapping[str, Any], prefix: str, outer: str | None
    ) -> tuple[str, list[tuple[str, str]]]:
        kind = _kind(task)
        if kind == "switch":
            node = self._node(prefix, f"{name}\nswitch", "diamond", outer)
            cases: list[tuple[str, str]] = []
            for case in task.get("switch") or []:
                if not isinstance(case, Mapping) or len(case) != 1:
                    continue
                ((case_name, spec),) = case.items()
                spec = spec if isinstance(spec, Mapping) else {}
                when = spec.get("when")
                text = f"{case_name}: {when}" if when else f"{case_name} (default)"
                cases.append((node, f"{text}\0{spec.get('then') or 'continue'}"))
            if not any("(default)" in label for _, label in cases):
                cases.append((node, "no match\0continue"))
            return node, cases
        if kind in ("do", "fork", "for", "try"):
            group = prefix + "g"
            self.graph.groups[group] = (name, outer)
            head = self._node(prefix, _label(name, task), "diamond" if kind == "fork" else "round", group)
            exits: list[tuple[str, str]]
            if kind == "do":
                entry, inner = self.task_list(task.get("do"), prefix + "d", group)
                if entry is not None:
                    self.graph.edges.append((head, entry, "", False))
                exits = inner or [(head, "")]
            elif kind == "fork":
                join = self._node(prefix + "j", "join", "diamond", group)
                fork = task.get("fork") or {}
                entries = 0
                for b_index, branch in enumerate(fork.get("branches") or []):
                    entry, inner = self.task_list([branch], f"{prefix}b{b_index}", group)
                    if entry is None:
                        continue
                    entries += 1
                    self.graph.edges.append((head, entry, "", False))
                    for source, label in inner:
                        self.graph.edges.append((source, join, label, False))
                if not entries:
                    self.graph.edges.append((head, join, "", False))
                exits = [(join, "")]
            elif kind == "for":
                entry, inner = self.task_list(task.get("do"), prefix + "d", group)
                if entry is not None:
                    self.graph.edges.append((head, entry, "each", False))
                    for source, _ in inner:
                        self.graph.edges.append((source, head, "next", True))
                exits = [(head, "done")]
            else:
                entry, inner = self.task_list(task.get("try"), prefix + "t", group)
                if entry is not None:
                    self.graph.edges.append((head, entry, "", False))
                exits = inner or [(head, "")]
                catch = task.get("catch") or {}
                caught = (catch.get("errors") or {}).get("with")
                handler = self._node(prefix + "c", f"catch {caught}" if caught else "catch", "round", group)
                self.graph.edges.append((entry or head, handler, "on error", True))
                c_entry, c_exits = self.task_list(catch.get("do"), prefix + "cd", group)
                if c_entry is not None:
                    self.graph.edges.append((handler, c_entry, "", False))
                    exits = exits + c_exits
                else:
                    exits = [*exits, (handler, "")]
            return head, exits
        node = self._node(prefix, _label(name, task), "round", outer)
        if kind == "raise":
            self.graph.edges.append((node, END, "fault", True))
            return node, []
        return node, [(node, "")]


def build_graph(data: Mapping[str, Any]) -> Graph:
    """The control-flow graph of a Workflow manifest or a bare workflow document."""
    document = data
    if data.get("kind") == "Workflow" and isinstance(data.get("spec"), Mapping):
        document = data["spec"].get("workflow") or {}
    meta = document.get("document") or {}
    title = f"{meta.get('name', 'workflow')} {meta.get('version', '')}".strip()
    builder = _Builder(title)
    entry, exits = builder.task_list(document.get("do"), "t", None)
    graph = builder.graph
    graph.edges.insert(0, (START, entry or END, "", False))
    for source, label in exits:
        graph.edges.append((source, END, label, False))
    return graph


def _mermaid_text(label: str) -> str:
    return label.replace('"', "#quot;").replace("\n", "<br/>")


def render_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD", f"  %% {graph.title}"]
    shapes = {"round": '("{}")', "diamond": '{{"{}"}}', "circle": '(("{}"))'}

    def emit(group: str | None, indent: str) -> None:
        for node_id, parent in graph.parents.items():
            if parent == group:
                shape = shapes[graph.shapes[node_id]].format(_mermaid_text(graph.nodes[node_id]))
                lines.append(f"{indent}{node_id}{shape}")
        for group_id, (label, parent) in graph.groups.items():
            if parent == group:
                lines.append(f'{indent}subgraph {group_id}["{_mermaid_text(label)}"]')
                emit(group_id, indent + "  ")
                lines.append(f"{indent}end")

    emit(None, "  ")
    for source, target, label, dashed in graph.edges:
        arrow = "-.->" if dashed else "-->"
        text = f'|"{_mermaid_text(label)}"|' if label else ""
        lines.append(f"  {source} {arrow}{text} {target}")
    return "\n".join(lines) + "\n"


def _dot_text(label: str) -> str:
    return label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_dot(graph: Graph) -> str:
    shapes = {"round": "box", "diamond": "diamond", "circle": "circle"}
    lines = [
        "digraph workflow {",
        f'  label="{_dot_text(graph.title)}";',
        "  node [fontname=Helvetica, style=rounded];",
    ]

    def emit(group: str | None, indent: str) -> None:
        for node_id, parent in graph.parents.items():
            if parent == group:
                label = _dot_text(graph.nodes[node_id])
                lines.append(f'{indent}{node_id} [label="{label}", shape={shapes[graph.shapes[node_id]]}];')
        for group_id, (label, parent) in graph.groups.items():
            if parent == group:
                lines.append(f'{indent}subgraph cluster_{group_id} {{ label="{_dot_text(label)}";')
                emit(group_id, indent + "  ")
                lines.append(f"{indent}}}")

    emit(None, "  ")
    for source, target, label, dashed in graph.edges:
        attributes = []
        if label:
            attributes.append(f'label="{_dot_text(label)}"')
        if dashed:
            attributes.append("style=dashed")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw a workflow as a Mermaid or DOT diagram",
        description="Draw the control flow of a Workflow manifest or workflow document.",
    )
    parser.add_argument("file", type=Path, help="Workflow manifest or workflow document (YAML or JSON)")
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid", help="default: mermaid")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    try:
        # The reader baton validate and baton serve use: YAML 1.2 (``on`` stays a string), bounded.
        data = dsl.read_document(args.file, origin=str(args.file))
    except dsl.DocumentError as exc:
        for problem in exc.problems:
            print(f"baton graph: {problem}", file=sys.stderr)
        return 2
    if not isinstance(data, Mapping) or not isinstance(
        data.get("do") if data.get("kind") != "Workflow" else (data.get("spec") or {}).get("workflow"),
        list | Mapping,
    ):
        print(
            f"baton graph: {args.file} holds neither a Workflow manifest nor a workflow document",
            file=sys.stderr,
        )
        return 2
    graph = build_graph(data)
    sys.stdout.write(render_mermaid(graph) if args.format == "mermaid" else render_dot(graph))
    return 0
