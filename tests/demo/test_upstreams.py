"""The demo's shop upstream behaves like the services the examples expect."""

import aiohttp
import pytest

from baton.demo import SERVICES, Shop, host_map, serve


@pytest.fixture
async def shop_url() -> tuple[Shop, str]:  # type: ignore[misc]
    shop = Shop(latency_scale=0)
    async with serve(shop) as url:
        yield shop, url


def test_every_service_host_maps_to_the_one_local_app() -> None:
    mapping = host_map("http://127.0.0.1:1234")
    assert sorted(mapping) == sorted(f"{service}.shop.internal" for service in SERVICES)
    assert set(mapping.values()) == {"http://127.0.0.1:1234"}


async def test_reserving_more_than_the_stock_is_refused_and_releasing_restores_it(
    shop_url: tuple[Shop, str],
) -> None:
    shop, url = shop_url
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/inventory/reservations", json={"sku": "sku-grinder", "quantity": 4}
        ) as r:
            assert r.status == 409
            assert (await r.json())["title"] == "Out of stock"
        async with session.post(
            f"{url}/inventory/reservations", json={"sku": "sku-grinder", "quantity": 3}
        ) as r:
            assert r.status == 201
            reservation = await r.json()
        assert shop.stock["sku-grinder"]["available"] == 0
        async with session.delete(f"{url}/inventory/reservations/{reservation['reservationId']}") as r:
            assert r.status == 200
        assert shop.stock["sku-grinder"]["available"] == 3
        assert [entry["action"] for entry in shop.ledger] == ["reserve", "release"]


async def test_a_switched_off_service_answers_503_until_switched_back_on(shop_url: tuple[Shop, str]) -> None:
    shop, url = shop_url
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{url}/admin/failures/shipping") as r:
            assert await r.json() == {"failing": ["shipping"]}
        async with session.post(f"{url}/shipments", json={}) as r:
            assert r.status == 503
            assert r.content_type == "application/problem+json"
        async with session.get(f"{url}/users/42") as r:
            assert r.status == 200
        async with session.delete(f"{url}/admin/failures/shipping") as r:
            assert r.status == 200
        async with session.post(f"{url}/shipments", json={"reservationId": "r-1"}) as r:
            assert r.status == 201
        async with session.put(f"{url}/admin/failures/billing") as r:
            assert r.status == 404
    with pytest.raises(ValueError, match="unknown service 'billing'"):
        shop.fail("billing")


async def test_unknown_records_are_404_problems(shop_url: tuple[Shop, str]) -> None:
    _, url = shop_url
    async with aiohttp.ClientSession() as session:
        for path in ("/users/999", "/users/abc", "/inventory/sku-none"):
            async with session.get(url + path) as r:
                assert r.status == 404, path
                assert (await r.json())["status"] == 404
        async with session.post(f"{url}/payments", json={"amount": -1}) as r:
            assert r.status == 400
