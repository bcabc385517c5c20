"""Plain-text rendering of a served demo run: the request, the answer, the run's timeline as
``GET /runs/{id}`` gave it, and what the upstream saw; then how to call the server yourself."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from baton.demo.script import DemoOutcome, Serving

__all__ = ["curl_command", "render_invitation", "render_outcome"]

_WIDTH = 96


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _compensates(task: dict[str, Any]) -> str | None:
    """The task a timeline entry compensates: a handler runs under the task it undoes, while its
    own path is elsewhere (``/use/functions/...``) or in that task's metadata."""
    parent, path = task.get("parent"), str(task.get("path", ""))
    if not parent or (path.startswith(parent + "/") and "/metadata/" not in path[len(parent) :]):
        return None
    return str(parent)


def render_outcome(outcome: DemoOutcome) -> str:
    run = outcome.run
    mark = "ok" if outcome.as_expected else f"UNEXPECTED (expected {run.expect})"
    lines = [
        f"━━ {run.title}",
        f"   {outcome.method} {outcome.path}  {_json(run.input)}",
        f"   → HTTP {outcome.status} in {outcome.elapsed * 1000:.1f} ms, "
        f"run {outcome.run_id or '(none)'}: {outcome.outcome or 'unknown'}  [{mark}]",
        "   response:",
    ]
    body = outcome.body
    text = json.dumps(body, indent=2, ensure_ascii=False) if not isinstance(body, str) else body
    lines.extend("     " + line for line in text.splitlines())
    detail = outcome.detail
    if detail is None:
        lines.append("   (no run to show: the answer named none)")
        return "\n".join(lines) + "\n"
    timeline: list[dict[str, Any]] = detail.get("timeline") or []
    lines.append(f"   timeline (GET /runs/{outcome.run_id}):")
    compensations = []
    for task in timeline:
        depth = max(0, str(task["path"]).count("/") // 2 - 1)
        start, end = task.get("startMs") or 0.0, task.get("endMs")
        took = "" if end is None else f"{end - start:6.1f} ms"
        compensated = _compensates(task)
        name = ("↩ " if compensated else "  " * depth) + str(task["name"])
        line = f"     +{start:6.1f} ms {took:>9}  {task['status']:<9} {name:<22} {task['kind']}"
        if task.get("decision"):
            line += f"  → {_clip(str(task['decision']), 60)}"
        if task.get("error"):
            line += f"  ✗ {task['error']}"
        if compensated:
            line += f"  (compensates {compensated})"
            compensations.append((compensated, task["name"], task["status"]))
        lines.append(line)
    for compensated, handler, status in compensations:
        lines.append(f"   compensated {compensated} with {handler}: {status}")
    if outcome.ledger:
        lines.append("   upstream saw:")
        for entry in outcome.ledger:
            details = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("service", "action"))
            lines.append(f"     {entry['service']}: {entry['action']} ({details})")
    return "\n".join(lines) + "\n"


def curl_command(method: str, url: str, body: Any = None) -> str:
    parts = ["curl", "-sS", "-X", method]
    if body is not None:
        parts += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    return shlex.join([*parts, url])


def render_invitation(serving: Serving) -> str:
    """How to call the running server yourself: ready-to-paste commands and where runs are."""
    base = serving.base_url
    lines = [f"\nBaton keeps serving the examples on {base} — press Ctrl-C to stop. Try:"]
    seen: set[str] = set()
    for run in serving.runs:
        endpoint = serving.examples[run.example].manifest.spec.endpoint
        command = curl_command(endpoint.method, base + endpoint.path, run.input)
        if command not in seen:
            seen.add(command)
            lines.append(f"  {command}")
    shipping = f"{serving.upstream_url}/admin/failures/shipping"
    lines += [
        "Switch the shop's shipping service off (the next order is compensated), then on again:",
        f"  {curl_command('PUT', shipping)}",
        f"  {curl_command('DELETE', shipping)}",
        f"Recent runs: {base}/runs (JSON); one run: {base}/runs/{{id}}, drawn as an HTML timeline "
        "when opened in a browser.",
    ]
    return "\n".join(lines) + "\n"
