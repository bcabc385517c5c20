"""A run drawn for a person: one bar per task on a shared time axis, details on demand.

Plain HTML and CSS (no script, no external asset), so it renders from a port-forward or a saved
file alike. Every value is escaped: task inputs and outputs are user data.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from baton.server.inspection import RunRecord

__all__ = ["render_run"]

_COLORS = {
    "completed": "#2e7d32",
    "faulted": "#c62828",
    "cancelled": "#757575",
    "running": "#1565c0",
    "skipped": "#bdbdbd",
}

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212121}
h1{font-size:20px;margin:0 0 8px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0 0 16px}
dt{color:#616161}dd{margin:0;font-family:monospace}
.axis{display:flex;justify-content:space-between;color:#757575;font-size:12px;margin-left:260px}
.row{display:flex;align-items:center;border-top:1px solid #eee;min-height:26px}
.label{width:260px;flex:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.lane{position:relative;flex:1;height:18px;background:#fafafa}
.bar{position:absolute;top:2px;height:14px;border-radius:3px;min-width:2px}
.kind{color:#757575;font-size:12px}
.error{color:#c62828}
details{margin:0 0 0 260px;font-size:12px}
pre{background:#f5f5f5;padding:8px;overflow:auto;max-height:240px}
"""


def _depth(path: str) -> int:
    # /do/0/fetch -> 0; /do/1/fork/branches/0/a -> 1: two path segments per nesting level.
    return max(0, (path.strip("/").count("/") - 2) // 3)


def _dump(value: Any) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def render_run(record: RunRecord) -> str:
    detail = record.detail()
    timeline = detail["timeline"]
    total_ms = detail["durationMs"] or max((t["endMs"] or t["startMs"] for t in timeline), default=0.0) or 1.0
    facts = [
        ("Run", detail["id"]),
        ("Workflow", f"{detail['workflow']} {detail['version']} (routed by {detail['routedBy']})"),
        ("Outcome", f"{detail['outcome']}" + (f" → HTTP {detail['status']}" if detail["status"] else "")),
        ("Started", detail["startedAt"]),
        ("Duration", "running" if detail["durationMs"] is None else f"{detail['durationMs']:.1f} ms"),
        ("Request ID", detail["requestId"]),
        ("Trace ID", detail["traceId"] or "—"),
    ]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Run {escape(detail['id'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(detail['workflow'])} — run {escape(detail['id'])}</h1><dl>",
    ]
    parts += [f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts]
    parts.append("</dl>")
    if detail["policies"]:
        parts.append(
            "<p>Policies: "
            + "; ".join(
                escape(
                    f"{p['policy']} {p['check']}: {'allowed' if p['allowed'] else 'denied'} ({p['detail']})"
                )
                for p in detail["policies"]
            )
            + "</p>"
        )
    if "error" in detail:
        error = detail["error"]
        parts.append(
            f"<p class=error><b>{escape(str(error.get('title')))}</b> ({escape(str(error.get('type')))})"
            f"{' — ' + escape(str(error['detail'])) if error.get('detail') else ''}</p>"
        )
        if detail.get("errorDetail"):
            parts.append(f"<p class=error>{escape(str(detail['errorDetail']))}</p>")
    parts.append(
        f"<div class=axis><span>0 ms</span><span>{total_ms / 2:.1f} ms</span>"
        f"<span>{total_ms:.1f} ms</span></div>"
    )
    for task in timeline:
        start = task["startMs"]
        end = task["endMs"] if task["endMs"] is not None else total_ms
        left = 100 * start / total_ms
        width = max(0.2, 100 * (end - start) / total_ms)
        color = _COLORS.get(task["status"], "#6a1b9a")
        note = f"{task['status']}, {end - start:.1f} ms"
        if task["attempts"] > 1:
            note += f", {task['attempts']} attempts"
        if "decision" in task:
            note += f", {task['decision']}"
        indent = 12 * _depth(task["path"])
        parts.append(
            f"<div class=row><div class=label style='padding-left:{indent}px' title='{escape(task['path'])}'>"
            f"{escape(task['name'])} <span class=kind>{escape(task['kind'])}</span></div>"
            f"<div class=lane><div class=bar title='{escape(note)}' "
            f"style='left:{left:.3f}%;width:{min(width, 100 - left):.3f}%;background:{color}'>"
            "</div></div></div>"
        )
        extras = {
            k: task[k] for k in ("decision", "error", "errorDetail", "input", "output", "calls") if k in task
        }
        if extras:
            parts.append(
                f"<details><summary>{escape(task['name'])}: {escape(note)}</summary>"
                f"<pre>{_dump(extras)}</pre></details>"
            )
    if detail["outcome"] == "completed":
        parts.append(f"<h2>Output</h2><pre>{_dump(detail.get('output'))}</pre>")
    parts.append("</body></html>")
    return "".join(parts)
