"""The benchmark's upstream, run in its own process so its CPU is not the client's.

``GET /items/{n}`` answers ``{"n": n + 1, "item": "item-<n>"}``, so a chain of calls can feed
each response into the next request. Prints ``PORT <port>`` once listening on 127.0.0.1, then
serves until stdin closes (the parent's exit closes it, so it never outlives the benchmark).
"""

from __future__ import annotations

import asyncio
import socket
import sys

from aiohttp import web


async def item(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    return web.json_response({"n": n + 1, "item": f"item-{n}"})


async def main() -> None:
    app = web.Application()
    app.router.add_get("/items/{n}", item)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock, backlog=512).start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
