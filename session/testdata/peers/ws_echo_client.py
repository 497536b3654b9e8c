"""An echo client on Debian's python3-websockets: ws_echo_client.py URL
[deflate|plain]. Echoes every message it receives with the same type (str
stays text, bytes stay binary) until the connection ends, then prints one
JSON line {"code", "reason", "echoed", "timedOut"} and exits 0. The code is
the close frame the server sent, or 1006 when none came. The text message
"CLOSE-ME" is not echoed: the client closes with 1000 and a 1 s close
timeout (timedOut: its close was not answered in time)."""
import asyncio
import json
import sys

import websockets
from websockets.exceptions import ConnectionClosed


async def main():
    url, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "plain")
    echoed, timed_out, code, reason = 0, False, 1006, ""
    async with websockets.connect(
        url,
        compression="deflate" if mode == "deflate" else None,
        ping_interval=None,
        max_size=None,
        close_timeout=1,
    ) as ws:
        try:
            while True:
                msg = await ws.recv()
                if msg == "CLOSE-ME":
                    loop = asyncio.get_running_loop()
                    start = loop.time()
                    await ws.close(1000, "bye")
                    # close() waits close_timeout for the answer, then
                    # drops TCP; an unanswered close leaves rcvd unset.
                    timed_out = ws.close_rcvd is None and loop.time() - start >= 0.9
                    break
                await ws.send(msg)
                echoed += 1
        except ConnectionClosed as e:
            if e.rcvd is not None:
                code, reason = e.rcvd.code, e.rcvd.reason
    if ws.close_rcvd is not None:
        code, reason = ws.close_rcvd.code, ws.close_rcvd.reason
    print(json.dumps({"code": code, "reason": reason, "echoed": echoed, "timedOut": timed_out}), flush=True)


asyncio.run(main())
