"""``call: openapi`` against a real OpenAPI document and service on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from baton.engine import RunEnvironment
from tests.engine._support import run, upstream

PETS = [
    {"id": 1, "name": "milou", "status": "available"},
    {"id": 2, "name": "rantanplan", "status": "sold"},
]


async def _find(request: web.Request) -> web.Response:
    wanted = request.query.getall("status")
    return web.json_response([p for p in PETS if p["status"] in wanted])


async def _get_pet(request: web.Request) -> web.Response:
    pet = next((p for p in PETS if p["id"] == int(request.match_info["id"])), None)
    if pet is None:
        return web.json_response({"message": "Pet not found"}, status=404)
    return web.json_response(pet)


async def _add_pet(request: web.Request) -> web.Response:
    return web.json_response({"created": await request.json(), "key": request.headers.get("api_key")})


def _swagger(request: web.Request) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "host": f"127.0.0.1:{request.url.port}",
        "basePath": "/v2",
        "schemes": ["http"],
        "paths": {
            "/pet/findByStatus": {
                "get": {
                    "operationId": "findPetsByStatus",
                    "parameters": [{"name": "status", "in": "query", "required": True, "type": "array"}],
                }
            },
            "/pet/{petId}": {
                "parameters": [{"$ref": "#/parameters/petId"}],
                "get": {"operationId": "getPetById"},
            },
            "/pet": {
                "post": {
                    "operationId": "addPet",
                    "parameters": [
                        {"name": "api_key", "in": "header"},
                        {"name": "body", "in": "body", "required": True},
                    ],
                }
            },
        },
        "parameters": {"petId": {"name": "petId", "in": "path", "required": True, "type": "integer"}},
    }


async def _routes() -> dict[tuple[str, str], Any]:
    documents = {"n": 0}

    async def swagger(request: web.Request) -> web.Response:
        documents["n"] += 1
        return web.json_response(_swagger(request))

    async def openapi3(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "openapi": "3.0.3",
                "servers": [{"url": "/{version}", "variables": {"version": {"default": "v2"}}}],
                "paths": {
                    "/pet/{petId}": {
                        "get": {
                            "operationId": "getPetById",
                            "parameters": [{"name": "petId", "in": "path", "required": True}],
                        }
                    }
                },
            }
        )

    return {
        ("GET", "/v2/swagger.json"): swagger,
        ("GET", "/openapi.json"): openapi3,
        ("GET", "/v2/pet/findByStatus"): _find,
        ("GET", "/v2/pet/{id}"): _get_pet,
        ("POST", "/v2/pet"): _add_pet,
    }


def _call(document: str, operation: str, parameters: Any, **extra: Any) -> dict[str, Any]:
    return {
        "call": "openapi",
        "with": {
            "document": {"endpoint": document},
            "operationId": operation,
            "parameters": parameters,
            **extra,
        },
    }


async def test_an_operation_is_called_by_id_with_query_and_path_parameters(env: RunEnvironment) -> None:
    async with upstream(await _routes()) as up:
        swagger = up.url("/v2/swagger.json")
        result = await run(
            [
                {
                    "find": {
                        **_call(swagger, "findPetsByStatus", {"status": "${ .status }"}),
                        "output": {"as": "length"},
                    }
                },
                {"get": _call(swagger, "getPetById", {"petId": 2}, output="response")},
            ],
            {"status": "available"},
            env=env,
        )
        assert up.hits("/v2/swagger.json") == 1  # fetched once, then cached by the environment
        assert result.output["request"]["uri"] == up.url("/v2/pet/2")
    assert result.status == "completed", result.error
    assert result.output["statusCode"] == 200
    assert result.output["content"]["name"] == "rantanplan"


async def test_body_and_header_parameters_are_sent(env: RunEnvironment) -> None:
    async with upstream(await _routes()) as up:
        result = await run(
            [
                {
                    "add": _call(
                        up.url("/v2/swagger.json"), "addPet", {"body": {"name": "idefix"}, "api_key": "k-1"}
                    )
                }
            ],
            env=env,
        )
    assert result.output == {"created": {"name": "idefix"}, "key": "k-1"}


async def test_openapi_3_servers_with_variables_give_the_base_url(env: RunEnvironment) -> None:
    async with upstream(await _routes()) as up:
        result = await run([{"get": _call(up.url("/openapi.json"), "getPetById", {"petId": 1})}], env=env)
    assert result.output["name"] == "milou"


async def test_a_missing_required_parameter_is_a_validation_error(env: RunEnvironment) -> None:
    async with upstream(await _routes()) as up:
        result = await run([{"get": _call(up.url("/v2/swagger.json"), "getPetById", {})}], env=env)
    assert result.error is not None
    assert result.error.type.endswith("/validation")
    assert "'petId'" in (result.error.detail or "")


async def test_an_unknown_operation_is_a_configuration_error(env: RunEnvironment) -> None:
    async with upstream(await _routes()) as up:
        result = await run([{"x": _call(up.url("/v2/swagger.json"), "deletePet", {})}], env=env)
    assert result.error is not None
    assert result.error.type.endswith("/configuration")
    assert "deletePet" in (result.error.detail or "")


async def test_an_error_answer_of_the_operation_is_a_communication_error(env: RunEnvironment) -> None:
    async with upstream(await _routes()) as up:
        result = await run([{"get": _call(up.url("/v2/swagger.json"), "getPetById", {"petId": 99})}], env=env)
    assert result.error is not None
    assert result.error.status == 404
    assert result.error.instance == "/do/0/get"
