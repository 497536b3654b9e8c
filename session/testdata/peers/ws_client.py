"""A test client on Debian's python3-websockets: ws_client.py URL [deflate]
[protocol...]. Connects, prints one JSON line {"protocol", "extensions",
"got"} after the first message from the server, sends "hi", then closes
with 1000."""
import asyncio
import json
import sys

import websockets


def response_headers(ws):
    resp = getattr(ws, "response", None)
    return resp.headers if resp is not None else ws.response_headers


async def main():
    url, mode, protocols = sys.argv[1], sys.argv[2], sys.argv[3:]
    async with websockets.connect(
        url,
        subprotocols=protocols or None,
        compression="deflate" if mode == "deflate" else None,
        ping_interval=None,
    ) as ws:
        got = await ws.recv()
        print(json.dumps({
            "protocol": ws.subprotocol or "",
            "extensions": response_headers(ws).get("Sec-WebSocket-Extensions", ""),
            "got": got,
        }), flush=True)
        await ws.send("hi")
        await ws.close(1000, "done")


asyncio.run(main())
