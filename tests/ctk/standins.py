"""Local stand-ins, on 127.0.0.1, for the public services the conformance kit calls.

The kit's scenarios call https://petstore.swagger.io and https://httpbin.org. Tests may not
reach the internet, so these aiohttp servers answer the endpoints the scenarios use the way the
real services do (status codes, content types, body shapes), and the engine's HTTP transport
maps each public host to its stand-in. Only behaviour a scenario can observe is reproduced;
everything else answers 404 like an unknown route on the real host.
"""

from __future__ import annotations

import base64
import binascii
import copy
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from aiohttp import web

__all__ = ["PETS", "STANDIN_APPS", "httpbin_app", "petstore_app", "serve", "serve_standins"]

#: The pets the stand-in Swagger Petstore holds; ids 1 and 2 exist as on the public demo.
PETS: tuple[dict[str, Any], ...] = (
    {
        "id": 1,
        "category": {"id": 1, "name": "dogs"},
        "name": "doggie",
        "photoUrls": ["https://example.invalid/doggie.png"],
        "tags": [{"id": 1, "name": "friendly"}],
        "status": "available",
    },
    {
        "id": 2,
        "category": {"id": 2, "name": "cats"},
        "name": "kitty",
        "photoUrls": [],
        "tags": [],
        "status": "available",
    },
    {
        "id": 3,
        "category": {"id": 1, "name": "dogs"},
        "name": "rex",
        "photoUrls": [],
        "tags": [],
        "status": "pending",
    },
    {
        "id": 4,
        "category": {"id": 3, "name": "birds"},
        "name": "tweety",
        "photoUrls": [],
        "tags": [],
        "status": "sold",
    },
)

_PET_STATUSES = frozenset({"available", "pending", "sold"})


def _petstore_error(status: int, message: str, kind: str = "error") -> web.Response:
    # The Petstore's ApiResponse shape: {"code", "type", "message"}.
    return web.json_response({"code": status, "type": kind, "message": message}, status=status)


def _swagger() -> dict[str, Any]:
    """The Petstore's Swagger 2.0 description, for the operations the kit calls by operationId."""
    pet_ref = {"$ref": "#/definitions/Pet"}
    return {
        "swagger": "2.0",
        "info": {"title": "Swagger Petstore", "version": "1.0.7"},
        "host": "petstore.swagger.io",
        "basePath": "/v2",
        "schemes": ["https", "http"],
        "paths": {
            "/pet/findByStatus": {
                "get": {
                    "tags": ["pet"],
                    "summary": "Finds Pets by status",
                    "operationId": "findPetsByStatus",
                    "produces": ["application/json", "application/xml"],
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "required": True,
                            "type": "array",
                            "items": {
                                "type": "string",
                                "enum": sorted(_PET_STATUSES),
                                "default": "available",
                            },
                            "collectionFormat": "multi",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "successful operation",
                            "schema": {"type": "array", "items": pet_ref},
                        },
                        "400": {"description": "Invalid status value"},
                    },
                }
            },
            "/pet/{petId}": {
                "get": {
                    "tags": ["pet"],
                    "summary": "Find pet by ID",
                    "operationId": "getPetById",
                    "produces": ["application/json", "application/xml"],
                    "parameters": [
                        {
                            "name": "petId",
                            "in": "path",
                            "required": True,
                            "type": "integer",
                            "format": "int64",
                        }
                    ],
                    "responses": {
                        "200": {"description": "successful operation", "schema": pet_ref},
                        "400": {"description": "Invalid ID supplied"},
                        "404": {"description": "Pet not found"},
                    },
                }
            },
        },
        "definitions": {
            "Pet": {
                "type": "object",
                "required": ["name", "photoUrls"],
                "properties": {
                    "id": {"type": "integer", "format": "int64"},
                    "name": {"type": "string", "example": "doggie"},
                    "photoUrls": {"type": "array", "items": {"type": "string"}},
                    "status": {"type": "string", "enum": sorted(_PET_STATUSES)},
                },
            }
        },
    }


def petstore_app() -> web.Application:
    """Swagger Petstore v2: ``/v2/pet/{petId}``, ``/v2/pet/findByStatus``, ``/v2/swagger.json``."""
    pets = {pet["id"]: pet for pet in copy.deepcopy(PETS)}
    swagger = _swagger()

    async def describe(request: web.Request) -> web.Response:
        return web.json_response(swagger)

    async def find_by_status(request: web.Request) -> web.Response:
        wanted = request.query.getall("status", [])
        statuses = {status for value in wanted for status in value.split(",") if status}
        if not statuses or not statuses <= _PET_STATUSES:
            return _petstore_error(400, "Invalid status value")
        return web.json_response([pet for pet in pets.values() if pet["status"] in statuses])

    async def get_pet(request: web.Request) -> web.Response:
        raw = request.match_info["pet_id"]
        try:
            pet_id = int(raw)
        except ValueError:
            message = f'java.lang.NumberFormatException: For input string: "{raw}"'
            return _petstore_error(404, message, "unknown")
        pet = pets.get(pet_id)
        if pet is None:
            return _petstore_error(404, "Pet not found")
        return web.json_response(pet)

    async def unknown_route(request: web.Request) -> web.Response:
        return _petstore_error(404, "HTTP 404 Not Found", "unknown")

    app = web.Application()
    app.router.add_get("/v2/swagger.json", describe)
    app.router.add_get("/v2/pet/findByStatus", find_by_status)
    app.router.add_get("/v2/pet/{pet_id}", get_pet)
    app.router.add_route("*", "/{tail:.*}", unknown_route)
    return app


def httpbin_app() -> web.Application:
    """httpbin: ``/basic-auth/{user}/{passwd}``, ``/status/{code}`` and ``/get``."""

    async def basic_auth(request: web.Request) -> web.Response:
        user, password = request.match_info["user"], request.match_info["passwd"]
        if _basic_credentials(request.headers.get("Authorization", "")) != (user, password):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="Fake Realm"'})
        return web.json_response({"authenticated": True, "user": user})

    async def status(request: web.Request) -> web.Response:
        try:
            code = int(request.match_info["code"])
        except ValueError:
            return web.Response(status=400, text="Invalid status code")
        if not 100 <= code <= 599:
            return web.Response(status=400, text="Invalid status code")
        return web.Response(status=code)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "args": dict(request.query),
                "headers": dict(request.headers),
                "origin": request.remote,
                "url": str(request.url),
            }
        )

    app = web.Application()
    app.router.add_route("*", "/basic-auth/{user}/{passwd}", basic_auth)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/get", echo)
    return app


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        sock.close()


#: Public host -> the app that stands in for it.
STANDIN_APPS = {"petstore.swagger.io": petstore_app, "httpbin.org": httpbin_app}


@asynccontextmanager
async def serve_standins() -> AsyncIterator[dict[str, str]]:
    """Start every stand-in; yield ``{public host: local base URL}``."""
    async with AsyncExitStack() as stack:
        yield {host: await stack.enter_async_context(serve(app())) for host, app in STANDIN_APPS.items()}
