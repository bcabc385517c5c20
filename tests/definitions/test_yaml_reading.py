"""Every door reads YAML with ``baton.dsl``'s bounded YAML 1.2 reader, so what runs is what was judged.

PyYAML's ``safe_load`` is YAML 1.1: ``on``, ``yes`` and ``off`` become booleans. A manifest
validated as strings and then served as booleans would run different data from what
``baton validate`` checked; these tests pin the same data through ``baton validate``,
``baton serve`` (over real HTTP), ``baton graph`` and ``--secrets``.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from baton.cli.main import main
from baton.definitions import read_items
from tests.server._support import send, serving

MANIFEST = """\
apiVersion: baton.dev/v1alpha1
kind: Workflow
metadata: {name: switches}
spec:
  endpoint: {path: /switches}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: switches, version: '1.0.0'}
    do:
      - answer:
          set:
            on: yes
            off: no
            light: on
            date: 2026-11-24
            octal: 010
"""

#: What YAML 1.2 (core schema) says the ``set`` holds; YAML 1.1 would say True/False/date/8.
EXPECTED = {"on": "yes", "off": "no", "light": "on", "date": "2026-11-24", "octal": 10}


async def test_a_manifest_with_yes_and_on_is_served_with_the_data_validate_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "switches.yaml"
    file.write_text(MANIFEST)
    assert main(["validate", str(file)]) == 0
    capsys.readouterr()
    (item,), problems = read_items(file, origin=str(file))
    assert not problems
    judged = item.raw["spec"]["workflow"]["do"][0]["answer"]["set"]
    assert judged == EXPECTED

    async with serving([tmp_path]) as (_, base), aiohttp.ClientSession() as client:
        response = await send(client, "POST", base + "/switches", json={})
    assert response.status == 200
    assert response.json() == judged


def test_baton_graph_reads_the_same_data_and_names_a_broken_file_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "switches.yaml"
    file.write_text(MANIFEST)
    assert main(["graph", str(file)]) == 0
    assert "answer" in capsys.readouterr().out
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
            f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
            for i in range(8)
        )
    )
    assert main(["graph", str(bomb)]) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"baton graph: {bomb}: ")
    assert "Traceback" not in err


def test_serve_reads_secrets_as_yaml_1_2_and_refuses_duplicate_keys(tmp_path: Path) -> None:
    import argparse

    from baton.cli.serve import _secrets

    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("api: {token: on, mode: yes}\n")
    args = argparse.Namespace(secrets=secrets, secrets_dir=None)
    assert _secrets(args) == {"api": {"token": "on", "mode": "yes"}}
    secrets.write_text("api: {token: a}\napi: {token: b}\n")
    with pytest.raises(ValueError, match="duplicate key 'api'"):
        _secrets(args)
    secrets.write_text(json.dumps(["not", "a", "mapping"]))
    with pytest.raises(ValueError, match="must hold an object"):
        _secrets(args)


PETS_YAML = """\
openapi: 3.0.3
servers: [{url: /v2}]
paths:
  /pet/{petId}:
    get:
      operationId: getPetById
      parameters: [{name: petId, in: path, required: true}]
"""

BOMB = "openapi: 3.0.3\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


async def test_an_openapi_document_in_yaml_is_read_bounded_by_the_dsl_reader() -> None:
    from aiohttp import web

    from baton.engine import RunEnvironment
    from tests.engine._support import run, upstream

    async def document(request: web.Request) -> web.Response:
        text = PETS_YAML if request.path == "/openapi.yaml" else BOMB
        return web.Response(text=text, content_type="application/yaml")

    async def pet(request: web.Request) -> web.Response:
        return web.json_response({"id": int(request.match_info["id"]), "name": "milou"})

    routes = {
        ("GET", "/openapi.yaml"): document,
        ("GET", "/bomb.yaml"): document,
        ("GET", "/v2/pet/{id}"): pet,
    }

    def call(uri: str) -> dict[str, object]:
        return {
            "get": {
                "call": "openapi",
                "with": {
                    "document": {"endpoint": uri},
                    "operationId": "getPetById",
                    "parameters": {"petId": 1},
                },
            }
        }

    async with RunEnvironment(seed=7) as env, upstream(routes) as up:
        read = await run([call(up.url("/openapi.yaml"))], {}, env=env)
        bombed = await run([call(up.url("/bomb.yaml"))], {}, env=env)
    assert read.status == "completed", read.error
    assert read.output == {"id": 1, "name": "milou"}
    assert bombed.status == "faulted"
    assert bombed.error is not None
    assert bombed.error.type.endswith("/configuration")
    assert "is not JSON or YAML: the document has more than" in str(bombed.error.detail)
