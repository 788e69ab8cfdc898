"""A TCP proxy that adds latency, for chaos tests on a kernel without
sch_netem: every chunk read on one side is written to the other DELAY ms
(+- JITTER ms) later, in order, in both directions, so a connection through
it sees its round trip grow by about 2 * DELAY.  TLS passes through
untouched (the proxy never looks at the bytes).

    python3 delay_proxy.py LISTEN_HOST:PORT TARGET_HOST:PORT DELAY_MS [JITTER_MS]

Prints one JSON line {"listening": "HOST:PORT"} once it accepts, then runs
until SIGTERM.  Run it inside a test's namespace (ip netns exec); it binds
only the address it is given."""

import asyncio
import json
import random
import signal
import sys

CHUNK = 65536


async def pipe(reader, writer, delay, jitter):
    """Copies reader to writer, each chunk delayed; order is kept because a
    chunk is never due before the one read ahead of it."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def receive():
        due = 0.0
        while True:
            try:
                data = await reader.read(CHUNK)
            except (ConnectionError, OSError):
                data = b""
            due = max(due, loop.time() + delay + random.uniform(-jitter, jitter))
            queue.put_nowait((due, data))
            if not data:
                return

    async def send():
        try:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    await asyncio.gather(receive(), send())


async def serve(listen, target, delay, jitter):
    lhost, lport = listen.rsplit(":", 1)
    thost, tport = target.rsplit(":", 1)

    async def accepted(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection(thost, int(tport))
        except OSError:
            cwriter.close()
            return
        try:
            await asyncio.gather(pipe(creader, swriter, delay, jitter),
                                 pipe(sreader, cwriter, delay, jitter))
        finally:
            for w in (cwriter, swriter):
                w.close()

    server = await asyncio.start_server(accepted, lhost, int(lport), reuse_address=True)
    print(json.dumps({"listening": "%s:%s" % (lhost, lport)}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    delay = int(argv[3]) / 1000.0
    jitter = int(argv[4]) / 1000.0 if len(argv) == 5 else 0.0
    if jitter > delay:
        sys.exit("jitter must not exceed the delay")
    asyncio.run(serve(argv[1], argv[2], delay, jitter))


if __name__ == "__main__":
    main(sys.argv)
