"""``run: workflow`` in a served file resolves among that file's workflows, as validate does."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from baton.cli.main import main
from baton.engine import compile_workflow
from baton.server.loading import load_file
from tests.server._support import manifest, send, serving, write

_PRICING = manifest(
    [{"price": {"set": {"total": "${ .quantity * 3 }"}}}],
    name="pricing",
    path="/pricing",
)


def _checkout(target: str) -> dict[str, object]:
    return manifest(
        [
            {
                "quote": {
                    "run": {
                        "workflow": {
                            "namespace": "test",
                            "name": target,
                            "version": "1.0.0",
                            "input": {"quantity": "${ .quantity }"},
                        }
                    }
                }
            }
        ],
        name="checkout",
        path="/checkout",
    )


async def test_a_served_workflow_runs_a_sub_workflow_declared_in_the_same_file(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", _PRICING, _checkout("pricing"))
    assert main(["validate", str(tmp_path / "shop.yaml")]) == 0
    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/checkout", json={"quantity": 4})
        assert response.status == 200, response.json()
        assert response.json() == {"total": 12}


def test_serve_refuses_a_sub_workflow_that_validate_refuses_too(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.yaml", _PRICING, _checkout("missing"))
    assert main(["validate", str(path)]) == 1
    problems = [str(problem) for problem in load_file(path, factory=compile_workflow).problems]  # type: ignore[arg-type]
    assert any("test/missing" in problem for problem in problems), problems
