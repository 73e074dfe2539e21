#!/usr/bin/env python3
"""Idle subscribers of the live stream: what each costs the server in memory, and how fast
one publication reaches all of them. Standard library only (asyncio).

    live-subscribers.py BASE_URL SERVER_PID SUBSCRIBERS SETTLE_SECONDS -- IMPORT COMMAND...

Reads the server's VmRSS from /proc before and after opening the streams, then runs the
import command (which publishes one item) and times its arrival on every stream. Prints
`key value` lines for the shell script to turn into Markdown."""

import asyncio
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for the server")


def gauge(base):
    with urllib.request.urlopen(base + "/metrics") as response:
        for line in response.read().decode().splitlines():
            if line.startswith("newsdesk_live_subscribers "):
                return float(line.split()[1])
    return -1


class Subscriber:
    def __init__(self):
        self.reader = None
        self.writer = None
        self.received = asyncio.get_running_loop().create_future()

    async def open(self, host, port, path):
        self.reader, self.writer = await asyncio.open_connection(host, port)
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await self.writer.drain()
        status = await self.reader.readline()
        if b" 200 " not in status:
            raise SystemExit(f"subscriber refused: {status!r}")
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass

    async def listen(self):
        # The body is chunked; looking for the event name in the raw bytes is enough here.
        while not self.received.done():
            line = await self.reader.readline()
            if not line:
                return
            if b"event: item.published" in line:
                self.received.set_result(time.monotonic())

    def close(self):
        self.writer.close()


async def main():
    base, pid, count, settle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    command = sys.argv[sys.argv.index("--") + 1:]
    url = urllib.parse.urlsplit(base)
    host, port = url.hostname, url.port

    # One stream opened and closed first, so one-time costs (the first connection's buffers,
    # lazily built state) are not charged to the thousand.
    warm = Subscriber()
    await warm.open(host, port, "/api/v1/live?lang=en")
    warm.close()
    await asyncio.sleep(settle)
    before = rss_kib(pid)

    subscribers = [Subscriber() for _ in range(count)]
    opened = time.monotonic()
    for start in range(0, count, 100):
        await asyncio.gather(*(s.open(host, port, "/api/v1/live?lang=en") for s in subscribers[start:start + 100]))
    opened = time.monotonic() - opened
    listeners = [asyncio.create_task(s.listen()) for s in subscribers]
    await asyncio.sleep(settle)
    after = rss_kib(pid)
    open_gauge = gauge(base)

    published = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    imported = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(s.received for s in subscribers)), timeout=30)
    except asyncio.TimeoutError:
        pass
    arrivals = sorted(s.received.result() for s in subscribers if s.received.done())
    for s in subscribers:
        s.close()
    for task in listeners:
        task.cancel()
    await asyncio.sleep(settle)
    closed = rss_kib(pid)

    print(f"subscribers {count}")
    print(f"gauge {open_gauge:.0f}")
    print(f"open_seconds {opened:.2f}")
    print(f"rss_before_kib {before}")
    print(f"rss_open_kib {after}")
    print(f"rss_closed_kib {closed}")
    print(f"bytes_per_subscriber {(after - before) * 1024 / count:.0f}")
    print(f"received {len(arrivals)}")
    print(f"import_seconds {imported - published:.2f}")
    if arrivals:
        print(f"first_after_import_ms {(arrivals[0] - imported) * 1000:.0f}")
        print(f"last_after_import_ms {(arrivals[-1] - imported) * 1000:.0f}")
        print(f"spread_ms {(arrivals[-1] - arrivals[0]) * 1000:.1f}")


# bench/newsday.py imports the Subscriber class.
if __name__ == "__main__":
    asyncio.run(main())
