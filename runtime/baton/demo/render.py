"""Plain-text rendering of a demo run: its output, its timeline and what the upstream saw."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from baton.demo.examples import Example
    from baton.demo.script import DemoOutcome

__all__ = ["render_run"]

_WIDTH = 96


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_run(outcome: DemoOutcome, *, example: Example, elapsed: float) -> str:
    run, result = outcome.run, outcome.result
    mark = "ok" if outcome.as_expected else f"UNEXPECTED (expected {run.expect})"
    lines = [
        f"━━ {run.title}",
        f"   {example.path.name}  input {_json(run.input)}",
        f"   {result.status} in {elapsed * 1000:.1f} ms  [{mark}]",
    ]
    if result.error is not None:
        error = result.error
        lines.append(f"   error: {error.type}")
        lines.append(f"          {error.status} {error.title or ''} at {error.instance or '/'}")
        if error.detail:
            lines.append(f"          {_clip(error.detail, _WIDTH)}")
    else:
        lines.append("   output:")
        lines.extend(
            "     " + line for line in json.dumps(result.output, indent=2, ensure_ascii=False).splitlines()
        )
    lines.append("   timeline:")
    origin = min((record.started_at for record in result.timeline), default=result.started_at)
    for record in result.timeline:
        depth = record.path.count("/") // 2 - 1
        start = (record.started_at - origin) * 1000
        took = "" if record.duration_ms is None else f"{record.duration_ms:6.1f} ms"
        name = "  " * max(depth, 0) + record.name
        line = f"     +{start:6.1f} ms {took:>9}  {record.status:<9} {name:<22} {record.kind}"
        if record.decision:
            line += f"  → {_clip(_json(record.decision), 60)}"
        if record.error:
            line += f"  ✗ {record.error.get('status', '')} {record.error.get('title', '')}".rstrip()
        lines.append(line)
    for compensation in result.compensations:
        lines.append(
            f"   compensated {compensation.compensated} with {compensation.handler}: {compensation.status}"
        )
    if outcome.ledger:
        lines.append("   upstream saw:")
        for entry in outcome.ledger:
            details = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("service", "action"))
            lines.append(f"     {entry['service']}: {entry['action']} ({details})")
    return "\n".join(lines) + "\n"
