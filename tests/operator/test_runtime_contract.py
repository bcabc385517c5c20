"""What the operator hands the runtime, and reads back from it, is what the runtime gives and takes.

Fast tier, no cluster: the rendered ConfigMap files are loaded by the runtime's own loader, and
the run summary is scraped from a real ``baton.server.Server`` on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from baton.definitions import read_items
from baton.engine import compile_workflow
from baton.manifests import Workflow
from baton.server import Server, ServerConfig
from baton.server.loading import load_file
from baton_operator.config import OperatorConfig
from baton_operator.render import Owner, render
from baton_operator.scrape import Target, read_pods
from baton_operator.status import RunSummary
from baton_operator.summary import Ledger, run_status, update_ledger
from tests.operator._fixtures import DOCUMENT, workflow_body

OWNER = Owner("greet", "shop", "0b7e1f4e-1111-2222-3333-444455556666")
CONFIG = OperatorConfig(runtime_image="registry.example/baton-runtime:1.2.3")


def _workflow(annotations: dict[str, str] | None = None, **spec: Any) -> Workflow:
    body = workflow_body(**spec)
    metadata: dict[str, Any] = {"name": "greet", "annotations": annotations or {}}
    return Workflow.model_validate(
        {k: body[k] for k in ("apiVersion", "kind", "spec")} | {"metadata": metadata}
    )


def _mounted(workflow: Workflow, folder: Path) -> Path:
    """The ConfigMap's files as the kubelet mounts them for ``baton serve``."""
    rendering = render(workflow, [], owner=OWNER, config=CONFIG)
    for name, text in rendering.configmap["data"].items():
        (folder / name).write_text(text)
    return folder / "workflow.yaml"


def _canary(weight: int) -> dict[str, Any]:
    document = {**DOCUMENT, "document": {**DOCUMENT["document"], "version": "2.0.0"}}
    return {"canary": {"workflow": document, "weight": weight}}


def test_canary_weights_reach_the_runtime_as_baton_serve_reads_them(tmp_path: Path) -> None:
    loaded = load_file(_mounted(_workflow(rollout=_canary(20)), tmp_path), factory=compile_workflow)  # type: ignore[arg-type]
    assert not loaded.problems
    assert [(d.version, d.weight, d.canary) for d in loaded.definitions] == [
        ("1.0.0", 80, False),
        ("2.0.0", 20, True),
    ]


def test_the_weight_annotation_goes_to_the_runtime_so_pods_split_traffic_like_baton_serve(
    tmp_path: Path,
) -> None:
    workflow = _workflow({"baton.dev/weight": "50", "team": "shop"}, rollout=_canary(20))
    loaded = load_file(_mounted(workflow, tmp_path), factory=compile_workflow)  # type: ignore[arg-type]
    assert not loaded.problems
    assert [d.weight for d in loaded.definitions] == [50, 20]
    assert loaded.definitions[0].manifest.metadata.annotations == {"baton.dev/weight": "50"}


def test_strings_yaml_1_2_would_read_otherwise_reach_the_runtime_as_strings(tmp_path: Path) -> None:
    values = {"sci": "1e3", "octal": "0o17", "hex": "0x1F", "yes": "yes", "on": "on", "day": "2026-11-24"}
    body = workflow_body()
    body["spec"]["workflow"]["do"] = [{"answer": {"set": values}}]
    workflow = Workflow.model_validate(
        {k: body[k] for k in ("apiVersion", "kind", "spec")} | {"metadata": {"name": "greet"}}
    )
    file = _mounted(workflow, tmp_path)
    (item,), problems = read_items(file, origin=str(file))
    assert not problems
    assert item.raw["spec"]["workflow"]["do"][0]["answer"]["set"] == values


async def test_the_last_run_on_status_carries_when_it_started_and_how_long_it_took(tmp_path: Path) -> None:
    file = _mounted(_workflow(), tmp_path)
    server = Server([file.parent], config=ServerConfig(reload_interval=0))
    assert not server.load().problems
    port = await server.start("127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(base + "/greet", json={"name": "ada"}) as response:
                assert response.status == 200
                run_id = response.headers["X-Baton-Run-Id"]
            readings, problems = await read_pods(session, [Target("pod-a", base)], workflow="greet")
    finally:
        await server.stop()
    assert not problems
    ledger = update_ledger(Ledger(), readings, now="2026-11-24T14:00:00Z")
    status = RunSummary.model_validate(run_status(ledger))
    assert (status.total, status.failed) == (1, 0)
    last = status.last_run
    assert last is not None
    assert (last.id, last.version, last.outcome) == (run_id, "1.0.0", "completed")
    assert last.started_at is not None
    assert last.started_at.endswith("Z")
    assert last.ended_at is not None
    assert last.ended_at >= last.started_at
    assert last.duration_ms is not None
    assert last.duration_ms > 0
