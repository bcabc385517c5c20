"""The bundled example upstreams: a small shop's services, served by one aiohttp app on loopback.

The example workflows call ``http://<service>.shop.internal/...`` (``users``, ``orders``,
``inventory``, ``payments``, ``shipping``), the way they would call cluster Services; locally the
run environment maps each of those hosts to this app (:func:`host_map`). Each service answers
after a small latency, like a real network hop, so that fan-out and timelines show something.

The state-changing endpoints write to :attr:`Shop.ledger`, so the effect of a saga (and of its
compensations) can be seen from the upstream's side, not only from the workflow's. A failure
switch per service (:meth:`Shop.fail`, or ``PUT /admin/failures/{service}``) makes it answer
503 until switched back, which is how the demo shows compensation.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

from aiohttp import web

__all__ = ["DOMAIN", "SERVICES", "Shop", "host_map", "serve"]

SERVICES: Final = ("users", "orders", "inventory", "payments", "shipping")
DOMAIN: Final = "shop.internal"

#: Seconds each service takes to answer, before scaling: a few milliseconds, like a nearby hop.
LATENCY: Final[Mapping[str, float]] = {
    "users": 0.004,
    "orders": 0.008,
    "inventory": 0.003,
    "payments": 0.010,
    "shipping": 0.006,
}

_PROBLEM = "https://baton.dev/demo/problems/"


def host_map(base_url: str) -> dict[str, str]:
    """``{"users.shop.internal": base_url, ...}``: every service host to the one local app."""
    return {f"{service}.{DOMAIN}": base_url for service in SERVICES}


def _problem(status: int, kind: str, title: str, detail: str) -> web.Response:
    body = {"type": _PROBLEM + kind, "status": status, "title": title, "detail": detail}
    return web.json_response(body, status=status, content_type="application/problem+json")


class Shop:
    """The services' data and the ledger of what was done to it."""

    def __init__(self, *, latency_scale: float = 1.0) -> None:
        self.latency_scale = latency_scale
        self.users: dict[int, dict[str, Any]] = {
            42: {"id": 42, "name": "Ada Lovelace", "email": "ada@example.com", "tier": "gold"},
            7: {"id": 7, "name": "Alan Turing", "email": "alan@example.com", "tier": "standard"},
        }
        self.orders: list[dict[str, Any]] = [
            {"id": "o-1001", "userId": 42, "total": 129.5, "status": "delivered"},
            {"id": "o-1002", "userId": 42, "total": 18.0, "status": "shipped"},
            {"id": "o-1003", "userId": 7, "total": 64.25, "status": "delivered"},
        ]
        self.stock: dict[str, dict[str, Any]] = {
            "sku-espresso": {
                "sku": "sku-espresso",
                "name": "Espresso beans 1kg",
                "available": 12,
                "price": 24.0,
            },
            "sku-grinder": {"sku": "sku-grinder", "name": "Burr grinder", "available": 3, "price": 149.0},
        }
        self.reservations: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.failing: set[str] = set()
        #: Every state change, in order: ``{"service", "action", ...}``.
        self.ledger: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    # --- switches ---------------------------------------------------------------------------

    def fail(self, service: str) -> None:
        """Make ``service`` answer 503 until :meth:`recover`."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
        self.failing.add(service)

    def recover(self, service: str) -> None:
        self.failing.discard(service)

    # --- the app ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._latency_and_failures])
        add = app.router.add_route
        add("GET", "/users/{user_id}", self._get_user)
        add("GET", "/orders", self._list_orders)
        add("GET", "/inventory/{sku}", self._get_stock)
        add("POST", "/inventory/reservations", self._reserve)
        add("DELETE", "/inventory/reservations/{reservation_id}", self._release)
        add("POST", "/payments", self._charge)
        add("POST", "/payments/{payment_id}/refund", self._refund)
        add("POST", "/shipments", self._ship)
        add("PUT", "/admin/failures/{service}", self._switch_on)
        add("DELETE", "/admin/failures/{service}", self._switch_off)
        add("GET", "/admin/ledger", self._get_ledger)
        return app

    @web.middleware
    async def _latency_and_failures(self, request: web.Request, handler: Any) -> web.StreamResponse:
        service = _service_of(request.path)
        if service is None:
            response: web.StreamResponse = await handler(request)
            return response
        delay = LATENCY[service] * self.latency_scale
        if delay > 0:
            await asyncio.sleep(delay)
        if service in self.failing:
            return _problem(
                503, "unavailable", f"{service} unavailable", f"the {service} service is switched off"
            )
        response = await handler(request)
        return response

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self.users.get(_int(request.match_info["user_id"]) or 0)
        if user is None:
            return _problem(
                404, "not-found", "No such user", f"user {request.match_info['user_id']} does not exist"
            )
        return web.json_response(user)

    async def _list_orders(self, request: web.Request) -> web.Response:
        user_id = _int(request.query.get("userId", ""))
        return web.json_response([order for order in self.orders if order["userId"] == user_id])

    async def _get_stock(self, request: web.Request) -> web.Response:
        item = self.stock.get(request.match_info["sku"])
        if item is None:
            return _problem(
                404, "not-found", "No such product", f"{request.match_info['sku']} is not sold here"
            )
        return web.json_response(item)

    async def _reserve(self, request: web.Request) -> web.Response:
        body = await _json(request)
        sku, quantity = body.get("sku"), body.get("quantity", 1)
        item = self.stock.get(sku) if isinstance(sku, str) else None
        if item is None or not isinstance(quantity, int) or quantity < 1:
            return _problem(400, "bad-request", "Bad reservation", "sku must be sold here and quantity >= 1")
        if item["available"] < quantity:
            return _problem(409, "out-of-stock", "Out of stock", f"only {item['available']} of {sku} left")
        item["available"] -= quantity
        reservation_id = f"r-{next(self._ids)}"
        reservation = {"reservationId": reservation_id, "sku": sku, "quantity": quantity}
        self.reservations[reservation_id] = reservation
        self.ledger.append({"service": "inventory", "action": "reserve", **reservation})
        return web.json_response(reservation, status=201)

    async def _release(self, request: web.Request) -> web.Response:
        reservation = self.reservations.pop(request.match_info["reservation_id"], None)
        if reservation is None:
            return _problem(404, "not-found", "No such reservation", request.match_info["reservation_id"])
        self.stock[reservation["sku"]]["available"] += reservation["quantity"]
        self.ledger.append({"service": "inventory", "action": "release", **reservation})
        return web.json_response({**reservation, "status": "released"})

    async def _charge(self, request: web.Request) -> web.Response:
        body = await _json(request)
        amount = body.get("amount")
        if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
            return _problem(400, "bad-request", "Bad payment", "amount must be a positive number")
        payment_id = f"p-{next(self._ids)}"
        payment = {
            "paymentId": payment_id,
            "amount": amount,
            "currency": body.get("currency", "EUR"),
            "status": "captured",
        }
        self.payments[payment_id] = payment
        self.ledger.append({"service": "payments", "action": "charge", **payment})
        return web.json_response(payment, status=201)

    async def _refund(self, request: web.Request) -> web.Response:
        payment = self.payments.get(request.match_info["payment_id"])
        if payment is None:
            return _problem(404, "not-found", "No such payment", request.match_info["payment_id"])
        payment["status"] = "refunded"
        self.ledger.append({"service": "payments", "action": "refund", **payment})
        return web.json_response(payment)

    async def _ship(self, request: web.Request) -> web.Response:
        body = await _json(request)
        shipment = {
            "shipmentId": f"s-{next(self._ids)}",
            "reservationId": body.get("reservationId"),
            "carrier": "Baton Express",
            "etaDays": 2,
        }
        self.ledger.append({"service": "shipping", "action": "ship", **shipment})
        return web.json_response(shipment, status=201)

    async def _switch_on(self, request: web.Request) -> web.Response:
        return self._switch(request, on=True)

    async def _switch_off(self, request: web.Request) -> web.Response:
        return self._switch(request, on=False)

    def _switch(self, request: web.Request, *, on: bool) -> web.Response:
        service = request.match_info["service"]
        if service not in SERVICES:
            return _problem(404, "not-found", "No such service", f"one of {', '.join(SERVICES)}")
        if on:
            self.fail(service)
        else:
            self.recover(service)
        return web.json_response({"failing": sorted(self.failing)})

    async def _get_ledger(self, request: web.Request) -> web.Response:
        return web.json_response(self.ledger)


def _service_of(path: str) -> str | None:
    head = path.strip("/").split("/", 1)[0]
    service = "shipping" if head == "shipments" else head
    return service if service in SERVICES else None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@asynccontextmanager
async def serve(shop: Shop, *, port: int = 0) -> AsyncIterator[str]:
    """Serve ``shop`` on 127.0.0.1 (a free port unless ``port`` is given); yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    runner = web.AppRunner(shop.app(), access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
        sock.close()
