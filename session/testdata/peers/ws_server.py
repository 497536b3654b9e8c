"""A test peer on Debian's python3-websockets: prints "PORT n", serves
127.0.0.1 until stdin closes. Paths as in ws_server.js: /echo, /close,
/ping, /headers. argv[1] == "deflate" offers permessage-deflate."""
import asyncio
import json
import sys
import urllib.parse

import websockets


def request_path(ws, path):
    if path is not None:
        return path
    req = getattr(ws, "request", None)
    return req.path if req is not None else ws.path


def request_headers(ws):
    req = getattr(ws, "request", None)
    headers = req.headers if req is not None else ws.request_headers
    return {k.lower(): v for k, v in headers.raw_items()}


async def handler(ws, path=None):
    url = urllib.parse.urlsplit(request_path(ws, path))
    query = urllib.parse.parse_qs(url.query)
    if url.path == "/close":
        code = int(query.get("code", ["4001"])[0])
        await ws.close(code, query.get("reason", ["bye"])[0])
        return
    pinger = None
    if url.path == "/ping":
        async def ping_loop():
            n = 0
            while True:
                n += 1
                await ws.ping(("srv%d" % n).encode())
                await asyncio.sleep(0.05)
        pinger = asyncio.ensure_future(ping_loop())
    if url.path == "/headers":
        await ws.send(json.dumps(request_headers(ws)))
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        if pinger:
            pinger.cancel()


async def main():
    deflate = len(sys.argv) > 1 and sys.argv[1] == "deflate"
    async with websockets.serve(
        handler, "127.0.0.1", 0,
        subprotocols=["chat", "superchat"],
        compression="deflate" if deflate else None,
        max_size=64 * 1024 * 1024,
        ping_interval=None,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print("PORT %d" % port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
