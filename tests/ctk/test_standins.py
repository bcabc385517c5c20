"""The stand-ins answer like the public services the kit's scenarios call."""

import base64

import aiohttp

from tests.ctk.standins import serve_standins


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_the_petstore_stand_in_serves_pets_by_id_and_by_status() -> None:
    async with serve_standins() as urls, aiohttp.ClientSession() as session:
        base = urls["petstore.swagger.io"]
        async with session.get(f"{base}/v2/pet/1") as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            pet = await response.json()
        assert pet["id"] == 1
        assert {"name", "status", "category", "photoUrls", "tags"} <= pet.keys()
        async with session.get(f"{base}/v2/pet/findByStatus", params={"status": "available"}) as response:
            pets = await response.json()
        assert [p["status"] for p in pets] == ["available"] * len(pets)
        assert len(pets) >= 2
        async with session.get(f"{base}/v2/pet/findByStatus", params={"status": "lost"}) as response:
            assert response.status == 400


async def test_the_petstore_stand_in_describes_its_operations_in_swagger_2() -> None:
    async with serve_standins() as urls, aiohttp.ClientSession() as session:
        response = await session.get(f"{urls['petstore.swagger.io']}/v2/swagger.json")
        document = await response.json()
    assert document["swagger"] == "2.0"
    assert (document["host"], document["basePath"]) == ("petstore.swagger.io", "/v2")
    operations = {op["operationId"]: path for path, item in document["paths"].items() for op in item.values()}
    assert operations == {"findPetsByStatus": "/pet/findByStatus", "getPetById": "/pet/{petId}"}


async def test_the_petstore_stand_in_answers_404_with_a_json_body_for_unknown_pets_and_routes() -> None:
    async with serve_standins() as urls, aiohttp.ClientSession() as session:
        base = urls["petstore.swagger.io"]
        for path in ("/v2/pet/999", "/v2/pet/getPetByName/Milou", "/v2/pet/abc"):
            async with session.get(base + path) as response:
                assert response.status == 404, path
                body = await response.json()
                assert body["code"] == 404


async def test_the_httpbin_stand_in_checks_basic_credentials_against_the_path() -> None:
    async with serve_standins() as urls, aiohttp.ClientSession() as session:
        url = f"{urls['httpbin.org']}/basic-auth/serverless-workflow/conformance-test"
        async with session.get(url, headers=basic("serverless-workflow", "conformance-test")) as ok:
            assert ok.status == 200
            assert await ok.json() == {"authenticated": True, "user": "serverless-workflow"}
        async with session.get(url, headers=basic("serverless-workflow", "wrong")) as denied:
            assert denied.status == 401
            assert denied.headers["WWW-Authenticate"].startswith("Basic")
        async with session.get(url) as anonymous:
            assert anonymous.status == 401
        garbage = {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}
        async with session.get(url, headers=garbage) as malformed:
            assert malformed.status == 401
        async with session.get(f"{urls['httpbin.org']}/status/503") as status:
            assert status.status == 503


async def test_every_stand_in_listens_on_loopback_only() -> None:
    async with serve_standins() as urls:
        assert urls
        assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
