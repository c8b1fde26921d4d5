#!/usr/bin/env python3
"""A TCP proxy that delays every byte by a fixed time in each direction: a WAN on loopback.

    latency_proxy.py --rtt MS LISTEN_HOST:LISTEN_PORT=TARGET_HOST:TARGET_PORT [...]

Each direction of each connection is delayed by RTT/2: a chunk read at time t is written at
t + RTT/2, in order, so a request/answer pair costs one RTT more than without the proxy and
pipelined bytes are not held up behind one another (as on a real link, bandwidth aside).
The kernel here has no netem, hence this. Prints "ready" on stdout once every port listens;
stops on SIGTERM.
"""

import argparse
import asyncio
import signal
import socket
import time


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk leaving `delay` seconds after it arrived."""
    queue = asyncio.Queue()

    async def read():
        try:
            while True:
                chunk = await reader.read(65536)
                await queue.put((time.monotonic() + delay, chunk))
                if not chunk:
                    return
        except (ConnectionError, OSError):
            await queue.put((time.monotonic() + delay, b""))

    async def write():
        try:
            while True:
                due, chunk = await queue.get()
                pause = due - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                if not chunk:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read(), write())


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def serve(listen, target, delay):
    host, port = target

    async def handle(client_reader, client_writer):
        nodelay(client_writer)
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        nodelay(server_writer)
        try:
            await asyncio.gather(
                pump(client_reader, server_writer, delay),
                pump(server_reader, client_writer, delay),
            )
        finally:
            for writer in (client_writer, server_writer):
                writer.close()

    return await asyncio.start_server(handle, listen[0], listen[1], backlog=1024)


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, required=True, help="round-trip time added, in ms")
    parser.add_argument("maps", nargs="+", help="LISTEN_HOST:PORT=TARGET_HOST:PORT")
    args = parser.parse_args()
    delay = args.rtt / 2000.0
    servers = []
    for mapping in args.maps:
        listen, _, target = mapping.partition("=")
        servers.append(await serve(endpoint(listen), endpoint(target), delay))
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
