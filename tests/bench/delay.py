#!/usr/bin/env python3
"""delay.py LISTEN_PORT TARGET_PORT ONE_WAY_MS: a TCP relay on 127.0.0.1
that delays every byte by ONE_WAY_MS in each direction (so the path's
round trip grows by twice that), keeping order.  The kernel here has no
netem qdisc; this stands in for a distant bastion.  Each chunk read is
written ONE_WAY_MS after it arrived; reading stops while 4 MiB wait."""
import asyncio
import sys

LISTEN, TARGET, DELAY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000


async def pipe(reader, writer):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue(maxsize=256)

    async def sender():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + DELAY, data or None))
            if not data:
                break
        await task
    except (ConnectionError, asyncio.CancelledError):
        task.cancel()
    finally:
        writer.close()


async def handle(creader, cwriter):
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        cwriter.close()
        return
    await asyncio.gather(pipe(creader, swriter), pipe(sreader, cwriter),
                         return_exceptions=True)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN, backlog=512)
    async with server:
        await server.serve_forever()


asyncio.run(main())
