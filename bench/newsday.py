#!/usr/bin/env python3
"""The writing and watching half of bench/newsday.sh: the editor, the commenting readers, the
publish -> visible probes and the idle live-stream subscribers, plus the Markdown report.
Standard library only (asyncio); the readers and the crawler are wrk, run by the shell script.

    newsday.py setup BASE DATA_DIR STATE.json EDITOR_EMAIL EDITOR_PASSWORD COMMENTERS
        Signs the editor into the desk and makes a staff token (the API's way to write),
        signs COMMENTERS readers up through the site's forms (the verification link is read
        from the outbox in DATA_DIR), signs them in through the API for reader tokens, and
        publishes the breaking story. Writes what the run needs to STATE.json.
    newsday.py subscribers BASE COUNT SECONDS READY_FILE OUT.json
        Opens COUNT idle live-stream subscribers (bench/live-subscribers.py's client), touches
        READY_FILE, keeps reading (and counting events) for SECONDS, then closes them.
    newsday.py run BASE STATE.json SECONDS OUT.json SERVER_PID
        The news day itself: saves the breaking story every SAVE_EVERY seconds, publishes a
        brief every PUBLISH_EVERY seconds, posts COMMENT_RATE comments a second on the
        breaking story, and after each write polls the story page, the home page, the feed,
        the API and one live-stream subscriber until the change shows.
    newsday.py report META.json
        Prints the Markdown report from every part's output (paths in META.json).

Publish -> visible is measured from the start of the editor's request, so it includes the
write itself (its own latency is reported too): what a reader sees after the editor clicks."""

import asyncio
import email
import glob
import html.parser
import http.client
import importlib.util
import json
import math
import os
import random
import re
import string
import sys
import time
import urllib.parse

# How often a probe asks again while a change is not visible yet.
POLL_INTERVAL = 0.02
# A change not visible after this long counts as not seen (and is reported as such).
VISIBLE_TIMEOUT = 10.0
# Comment posts in flight at once; beyond it a tick is skipped (and counted), so a stalled
# server does not pile up thousands of open requests in the client.
MAX_COMMENTS_IN_FLIGHT = 50
# Writes are not started this close to the end, so their probes finish within the run.
WRITE_MARGIN = 3.0

SURFACES = ["story", "home", "feed", "api", "live"]
FEED_PATH = "/feeds/all.rss"


# --- a small HTTP/1.1 client (keep-alive, Content-Length or chunked) ---------------------------


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive connection. A request on a reused connection that the server has closed
    meanwhile (its idle timeout) is sent again once on a new connection: nothing of the answer
    was read, so the server never saw it."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method, path, headers=None, body=None):
        reused = self.writer is not None
        try:
            if not reused:
                await self._connect()
            return await self._exchange(method, path, headers or {}, body)
        except (ConnectionError, asyncio.IncompleteReadError, HttpError) as e:
            self.close()
            if not reused or (isinstance(e, HttpError) and str(e) != "closed"):
                raise
            await self._connect()
            return await self._exchange(method, path, headers or {}, body)

    async def _exchange(self, method, path, headers, body):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("closed")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HttpError(f"bad status line {status_line!r}")
        status = int(parts[1])
        answer = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            answer.setdefault(name.strip().lower(), []).append(value.strip())
        if answer.get("transfer-encoding", [""])[-1].lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b""):
                        pass
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(chunks)
        else:
            data = await self.reader.readexactly(int(answer.get("content-length", ["0"])[-1]))
        if answer.get("connection", [""])[-1].lower() == "close":
            self.close()
        return status, answer, data


def percentile(values, p):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def split_base(base):
    url = urllib.parse.urlsplit(base)
    return url.hostname, url.port


# --- setup: tokens, readers and the breaking story (synchronous, before the run) -------------


class FormFields(html.parser.HTMLParser):
    """The csrf field's value and the issued token's secret, wherever they are in a page."""

    def __init__(self):
        super().__init__()
        self.csrf = None
        self.secret = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") == "csrf" and self.csrf is None:
            self.csrf = a.get("value")
        if tag == "input" and a.get("id") == "issued-secret":
            self.secret = a.get("value")


def fields_of(text):
    parser = FormFields()
    parser.feed(text)
    return parser


class Site:
    def __init__(self, base):
        self.host, self.port = split_base(base)

    def call(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response, data.decode("utf-8", "replace")

    def form(self, path, fields, cookie):
        body = urllib.parse.urlencode(fields)
        return self.call("POST", path, body, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})

    def json(self, method, path, value, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _, text = self.call(method, path, json.dumps(value), headers)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {"raw": text}


def cookie(response, name):
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(name + "="):
            return header.split(";", 1)[0]
    raise SystemExit(f"no {name} cookie in the answer ({response.status})")


def staff_token(site, email_address, password):
    status, response, text = site.call("GET", "/desk/sign-in")
    if status != 200:
        raise SystemExit(f"GET /desk/sign-in answered {status}")
    form_cookie = cookie(response, "nd_form")
    status, response, _ = site.form("/desk/sign-in", {
        "email": email_address, "password": password,
        "csrf": fields_of(text).csrf, "next": "/desk"}, form_cookie)
    if status != 303:
        raise SystemExit(f"desk sign-in answered {status}, not 303")
    session = cookie(response, "nd_session")
    status, _, text = site.call("GET", "/desk/tokens", headers={"Cookie": session})
    if status != 200:
        raise SystemExit(f"GET /desk/tokens answered {status}")
    status, _, text = site.form("/desk/tokens", {
        "csrf": fields_of(text).csrf, "kind": "staff", "name": "news-day bench",
        "role": "editor"}, session)
    secret = fields_of(text).secret
    if status != 201 or not secret:
        raise SystemExit(f"making a staff token answered {status}")
    return secret


def verify_link(data_dir, address, deadline):
    """The verification path in the newest mail to `address` in the outbox."""
    while time.monotonic() < deadline:
        for name in sorted(glob.glob(os.path.join(data_dir, "outbox", "*.eml")), reverse=True):
            with open(name, "rb") as f:
                message = email.message_from_binary_file(f)
            if address not in (message.get("To") or ""):
                continue
            text = message.get_payload(decode=True).decode("utf-8", "replace")
            found = re.search(r"https?://[^/\s]+(/account/verify/[^\s]+)", text)
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise SystemExit(f"no verification mail for {address} in {data_dir}/outbox")


def reader_token(site, data_dir, n, run_id):
    address = f"newsday-{run_id}-{n}@example.org"
    password = "a news-day reader's long password"
    status, response, text = site.call("GET", "/account/sign-up")
    if status != 200:
        raise SystemExit(f"GET /account/sign-up answered {status}")
    status, _, _ = site.form("/account/sign-up", {
        "csrf": fields_of(text).csrf, "email": address,
        "display_name": f"News-day reader {n}", "password": password},
        cookie(response, "nd_rform"))
    if status != 200:
        raise SystemExit(f"reader sign-up answered {status}")
    path = verify_link(data_dir, address, time.monotonic() + 30)
    status, _, _ = site.call("GET", path)
    if status != 200:
        raise SystemExit(f"verifying {address} answered {status}")
    status, signed = site.json("POST", "/api/v1/auth/sign-in",
                               {"email": address, "password": password})
    if status != 200 or not signed.get("reader", {}).get("verified"):
        raise SystemExit(f"reader sign-in answered {status}: {signed}")
    return signed["token"]


STORY_PARAGRAPHS = [
    "The storm surge reached the harbour wall shortly after high tide, and the coastal "
    "authority closed the lower town's streets to traffic while crews moved sandbags.",
    "Residents of the seafront terraces were asked to move to the upper school, where the "
    "council has opened a shelter with beds for four hundred people.",
    "Ferries to the outer islands are suspended until the wind drops below gale force; the "
    "port operator said the first sailing would be announced on its website.",
    "The river board is watching the estuary gauge, which rose by a metre in two hours, and "
    "says the tidal barrier will stay closed through the night.",
]


def story_write(headline, update_line, version, action):
    body = "\n\n".join(STORY_PARAGRAPHS * 10)
    if update_line:
        body = f"**{update_line}**\n\n{body}"
    return {
        "kind": "story", "language": "en", "section": "world", "slug": "storm-surge-live",
        "headline": headline,
        "standfirst": "Live: the surge, the shelters and the closed ferries, as it happens.",
        "body": body, "tags": ["storm"], "breaking": True, "version": version, "action": action,
    }


def setup(base, data_dir, state_path, editor_email, editor_password, commenters):
    site = Site(base)
    run_id = "".join(random.choice(string.ascii_lowercase) for _ in range(6))
    token = staff_token(site, editor_email, editor_password)
    readers = [reader_token(site, data_dir, n, run_id) for n in range(commenters)]
    status, story = site.json("POST", "/api/v1/items",
                              story_write("Storm surge floods Port Halden's lower town", None,
                                          None, "publish"), token)
    if status != 201 or story.get("status") != "published":
        raise SystemExit(f"publishing the breaking story answered {status}: {story}")
    # The API's addresses are absolute (the setup server's port): keep the path.
    path = urllib.parse.urlsplit(story["url"]).path
    state = {"run_id": run_id, "staff_token": token, "reader_tokens": readers,
             "story": {"id": story["id"], "url": path, "version": story["version"]}}
    with open(state_path, "w") as f:
        json.dump(state, f)
    print(f"story {path}")


# --- idle live-stream subscribers ------------------------------------------------------------


def live_client():
    """bench/live-subscribers.py's subscriber: the same handshake as the memory benchmark."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "live-subscribers.py")
    spec = importlib.util.spec_from_file_location("live_subscribers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Subscriber


async def drain(subscriber, counts):
    """Reads like a client that is shown the events (counting them), until the stream ends."""
    tail = b""
    while True:
        try:
            data = await subscriber.reader.read(65536)
        except ConnectionError:
            data = b""
        if not data:
            counts["ended"] += 1
            return
        chunk = tail + data
        counts["published"] += chunk.count(b"event: item.published")
        counts["updated"] += chunk.count(b"event: item.updated")
        # An event name cut by a read is counted with the next read.
        tail = chunk[-24:]
        counts["published"] -= tail.count(b"event: item.published")
        counts["updated"] -= tail.count(b"event: item.updated")


async def subscribers(base, count, seconds, ready_file, out_path):
    host, port = split_base(base)
    Subscriber = live_client()
    opened = time.monotonic()
    streams = [Subscriber() for _ in range(count)]
    for start in range(0, count, 100):
        await asyncio.gather(*(s.open(host, port, "/api/v1/live?lang=en")
                               for s in streams[start:start + 100]))
    opened = time.monotonic() - opened
    counts = [{"published": 0, "updated": 0, "ended": 0} for _ in streams]
    tasks = [asyncio.create_task(drain(s, c)) for s, c in zip(streams, counts)]
    with open(ready_file, "w") as f:
        f.write(f"{opened:.2f}\n")
    await asyncio.sleep(seconds)
    ended_early = sum(c["ended"] for c in counts)
    for s in streams:
        s.close()
    for t in tasks:
        t.cancel()
    result = {"count": count, "open_seconds": round(opened, 2), "ended_early": ended_early,
              "published_min": min(c["published"] for c in counts),
              "published_max": max(c["published"] for c in counts),
              "updated_min": min(c["updated"] for c in counts),
              "updated_max": max(c["updated"] for c in counts)}
    with open(out_path, "w") as f:
        json.dump(result, f)


# --- the run -----------------------------------------------------------------------------------


class LiveProbe:
    """One subscriber that decodes the stream properly and timestamps when a token arrives."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.waiting = {}  # token -> future of the arrival time
        self.messages = 0

    def expect(self, token):
        future = asyncio.get_running_loop().create_future()
        self.waiting[token] = future
        return future

    async def run(self, ready):
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(f"GET /api/v1/live?lang=en HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise SystemExit(f"the live probe was refused: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        ready.set_result(None)
        pending = b""
        try:
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    return
                pending += await reader.readexactly(size)
                await reader.readexactly(2)
                *lines, pending = pending.split(b"\n")
                now = time.monotonic()
                for line in lines:
                    if not line.startswith(b"data:"):
                        continue
                    self.messages += 1
                    text = line.decode("utf-8", "replace")
                    for token, future in list(self.waiting.items()):
                        if token in text and not future.done():
                            future.set_result(now)
                            del self.waiting[token]
        finally:
            writer.close()


class Day:
    def __init__(self, base, state, seconds, server_pid):
        self.base = base
        self.host, self.port = split_base(base)
        self.state = state
        self.seconds = seconds
        self.server_pid = server_pid
        self.story = state["story"]
        self.started = None
        self.writes = {"save": [], "publish": []}  # {latency, status, visible: {surface: s}}
        self.comments = {"latency": [], "status": {}, "skipped": 0, "failed": 0}
        self.in_flight = 0
        self.rss = []
        self.metrics_mid = {}
        self.probe_tasks = []
        self.live = LiveProbe(self.host, self.port)

    def elapsed(self):
        return time.monotonic() - self.started

    async def probe(self, surface, path, token, t0, results):
        connection = Connection(self.host, self.port)
        try:
            while time.monotonic() - t0 < VISIBLE_TIMEOUT:
                try:
                    status, _, body = await connection.request("GET", path)
                except (OSError, asyncio.IncompleteReadError, HttpError):
                    status, body = 0, b""
                    connection.close()
                if status == 200 and token.encode() in body:
                    results[surface] = time.monotonic() - t0
                    return
                await asyncio.sleep(POLL_INTERVAL)
            results[surface] = None
        finally:
            connection.close()

    async def live_wait(self, future, t0, results):
        try:
            results["live"] = await asyncio.wait_for(future, VISIBLE_TIMEOUT) - t0
        except asyncio.TimeoutError:
            results["live"] = None

    async def write(self, kind, number):
        token = f"nd{self.state['run_id']}{kind[0]}{number}x"
        t0 = time.monotonic()
        if kind == "save":
            clock = time.strftime("%H:%M:%S", time.gmtime())
            value = story_write(f"Storm surge floods Port Halden's lower town: update {token}",
                                f"Update {number} at {clock} UTC", self.story["version"], "save")
            method, path = "PUT", f"/api/v1/items/{self.story['id']}"
            api_path = path
        else:
            value = {"kind": "brief", "language": "en", "section": "world",
                     "slug": f"newsday-{token}",
                     "body": f"{token} The coastal authority reopens the harbour road after "
                             f"the surge; brief {number} of the day.",
                     "action": "publish"}
            method, path = "POST", "/api/v1/items"
            api_path = "/api/v1/items?lang=en&limit=5"
        visible = {}
        arrival = self.live.expect(token)
        probes = [self.probe("story", self.story["url"], token, t0, visible),
                  self.probe("home", "/", token, t0, visible),
                  self.probe("feed", FEED_PATH, token, t0, visible),
                  self.probe("api", api_path, token, t0, visible),
                  self.live_wait(arrival, t0, visible)]
        self.probe_tasks.append(asyncio.ensure_future(asyncio.gather(*probes)))
        record = {"at": round(t0 - self.started, 2), "visible": visible}
        connection = Connection(self.host, self.port)
        try:
            status, _, body = await connection.request(method, path, {
                "Authorization": f"Bearer {self.state['staff_token']}",
                "Content-Type": "application/json"}, json.dumps(value).encode())
        except (OSError, asyncio.IncompleteReadError, HttpError) as e:
            status, body = 0, str(e).encode()
        finally:
            connection.close()
        record["latency"] = time.monotonic() - t0
        record["status"] = status
        if status in (200, 201):
            if kind == "save":
                self.story["version"] = json.loads(body)["version"]
        else:
            record["error"] = body[:300].decode("utf-8", "replace")
        self.writes[kind].append(record)

    async def editor(self, kind, every, offset):
        number = 0
        while True:
            number += 1
            due = offset + number * every
            if due > self.seconds - WRITE_MARGIN:
                return
            await asyncio.sleep(max(0.0, due - self.elapsed()))
            await self.write(kind, number)

    async def comment(self, n):
        self.in_flight += 1
        reader = n % len(self.state["reader_tokens"])
        # A connection per post, as a reader's app that posts now and then opens one.
        connection = Connection(self.host, self.port)
        t0 = time.monotonic()
        try:
            status, _, _ = await connection.request(
                "POST", f"/api/v1/items/{self.story['id']}/comments",
                {"Authorization": f"Bearer {self.state['reader_tokens'][reader]}",
                 "Content-Type": "application/json"},
                json.dumps({"body": f"Comment {n} from a reader watching the surge "
                                    f"({self.state['run_id']}, {t0:.3f})."}).encode())
        except (OSError, asyncio.IncompleteReadError, HttpError):
            status = 0
        finally:
            connection.close()
            self.in_flight -= 1
        self.comments["latency"].append(time.monotonic() - t0)
        self.comments["status"][status] = self.comments["status"].get(status, 0) + 1

    async def commenters(self, rate):
        if rate <= 0:
            return
        # An open loop: posts start on the clock whatever the answers take, as readers do.
        tasks, n = [], 0
        while True:
            due = n / rate
            if due > self.seconds:
                break
            await asyncio.sleep(max(0.0, due - self.elapsed()))
            if self.in_flight >= MAX_COMMENTS_IN_FLIGHT:
                self.comments["skipped"] += 1
            else:
                tasks.append(asyncio.create_task(self.comment(n)))
            n += 1
        await asyncio.gather(*tasks)

    async def watch_server(self):
        while self.elapsed() < self.seconds:
            kib = rss_kib(self.server_pid)
            if kib is not None:
                self.rss.append(kib)
            if not self.metrics_mid and self.elapsed() >= self.seconds / 2:
                self.metrics_mid = await self.metrics()
            await asyncio.sleep(1)

    async def metrics(self):
        connection = Connection(self.host, self.port)
        try:
            status, _, body = await connection.request("GET", "/metrics")
        finally:
            connection.close()
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = value
        return values

    async def run(self, comment_rate, save_every, publish_every):
        ready = asyncio.get_running_loop().create_future()
        live_task = asyncio.create_task(self.live.run(ready))
        await asyncio.wait_for(ready, 30)
        self.started = time.monotonic()
        await asyncio.gather(
            self.editor("save", save_every, 0.0),
            # Publications fall between saves, so each is measured alone.
            self.editor("publish", publish_every, -publish_every / 2),
            self.commenters(comment_rate),
            self.watch_server(),
        )
        await asyncio.gather(*self.probe_tasks)
        live_task.cancel()
        return {
            "seconds": round(self.elapsed(), 2),
            "writes": self.writes,
            "comments": {
                "sent": len(self.comments["latency"]),
                "per_second": round(len(self.comments["latency"]) / self.seconds, 2),
                "p50": percentile(self.comments["latency"], 50),
                "p99": percentile(self.comments["latency"], 99),
                "status": self.comments["status"],
                "skipped": self.comments["skipped"],
            },
            "rss_kib_max": max(self.rss) if self.rss else None,
            "rss_kib_first": self.rss[0] if self.rss else None,
            "metrics_mid": {k: v for k, v in self.metrics_mid.items()
                            if k in ("newsdesk_live_subscribers", "newsdesk_page_cache_entries",
                                     "newsdesk_page_cache_bytes")},
            "live_messages": self.live.messages,
        }


async def day(base, state_path, seconds, out_path, server_pid):
    with open(state_path) as f:
        state = json.load(f)
    env = os.environ
    result = await Day(base, state, seconds, server_pid).run(
        float(env.get("COMMENT_RATE", "5")), float(env.get("SAVE_EVERY", "10")),
        float(env.get("PUBLISH_EVERY", "30")))
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)


# --- the report --------------------------------------------------------------------------------


def wrk_figures(path):
    """Requests a second, p50 and p99 in ms, non-2xx/3xx and socket errors from wrk's output."""
    text = open(path).read()
    figures = {"rps": None, "p50": None, "p99": None, "non2xx": 0, "socket": "", "requests": None}
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["Requests/sec:"]:
            figures["rps"] = float(words[1])
        elif words[:1] in (["50%"], ["99%"]):
            value = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", words[1])
            if value:
                figures["p" + words[0][:2]] = float(value.group(1)) * unit[value.group(2)]
        elif "Non-2xx or 3xx responses:" in line:
            figures["non2xx"] = int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            figures["socket"] = line.strip()[len("Socket errors: "):]
        elif len(words) > 3 and words[1] == "requests" and words[2] == "in":
            figures["requests"] = int(words[0])
    return figures


def ms(seconds):
    return "–" if seconds is None else f"{seconds * 1000:,.0f}"


def day_problems(meta, day_result):
    """Everything that went wrong, in words; empty when nothing did."""
    problems = []
    for name, _, path in meta["wrk"]:
        w = wrk_figures(path)
        if w["non2xx"]:
            problems.append(f"{name}: {w['non2xx']} non-2xx/3xx")
        if w["socket"]:
            problems.append(f"{name}: socket errors {w['socket']}")
    if day_result:
        for status, count in day_result["comments"]["status"].items():
            if not 200 <= int(status) < 300:
                problems.append(f"comments: {count} answered {status}")
        for kind in ("save", "publish"):
            failed = [r for r in day_result["writes"][kind] if r["status"] not in (200, 201)]
            if failed:
                problems.append(f"{kind}: {len(failed)} failed")
            unseen = sum(1 for r in day_result["writes"][kind]
                         for v in r["visible"].values() if v is None)
            if unseen:
                problems.append(f"{kind}: {unseen} changes not seen within "
                                f"{VISIBLE_TIMEOUT:.0f} s")
    return problems


def report(meta_path):
    with open(meta_path) as f:
        meta = json.load(f)
    out = []
    say = out.append
    say(f"# News day: {meta['backend']}")
    say("")
    say(f"- Command: `{meta['command']}`")
    say(f"- Date: {meta['date']}; machine: {meta['machine']}; load average (1, 5, 15 min) "
        f"{meta['load']}")
    say(f"- newsdesk: `{meta['bin']}`{meta.get('revision', '')}; archive of {meta['stories']} "
        f"generated stories plus the demo edition; {meta['duration']} s of news day; "
        "everything (wrk, the Python client, the server) on the same cores")
    say(f"- Server settings for the run: {meta['settings']}")
    say("")
    say("| class | load | requests/s | p50 ms | p99 ms | errors |")
    say("|---|---|---:|---:|---:|---|")
    for name, load, path in meta["wrk"]:
        w = wrk_figures(path)
        errors = f"{w['non2xx']} non-2xx/3xx" + (f"; socket {w['socket']}" if w["socket"] else "")
        p50 = "–" if w["p50"] is None else f"{w['p50']:.1f}"
        p99 = "–" if w["p99"] is None else f"{w['p99']:.1f}"
        rps = "–" if w["rps"] is None else f"{w['rps']:,.0f}"
        say(f"| {name} | {load} | {rps} | {p50} | {p99} | {errors} |")
    day_result = json.load(open(meta["day"])) if os.path.exists(meta["day"]) else None
    if day_result:
        c = day_result["comments"]
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(c["status"].items()))
        bad = sum(v for k, v in c["status"].items() if not 200 <= int(k) < 400 and int(k) != 429)
        limited = c["status"].get("429", 0)
        skipped = f", {c['skipped']} skipped ({MAX_COMMENTS_IN_FLIGHT} in flight)" if c["skipped"] else ""
        say(f"| comments (API, {meta['commenters']} readers) | {meta['comment_rate']}/s asked "
            f"| {c['per_second']} | {ms(c['p50'])} | {ms(c['p99'])} "
            f"| {bad} failed, {limited} × 429{skipped} ({statuses}) |")
        for kind, label in (("save", "editor saves the breaking story"),
                            ("publish", "editor publishes a brief")):
            rows = day_result["writes"][kind]
            lat = [r["latency"] for r in rows]
            bad = [r for r in rows if r["status"] not in (200, 201)]
            say(f"| {label} | every {meta['save_every' if kind == 'save' else 'publish_every']} s "
                f"| {len(rows)} writes | {ms(percentile(lat, 50))} | {ms(percentile(lat, 99))} "
                f"| {len(bad)} failed{'' if not bad else ': ' + bad[0].get('error', '')[:80]} |")
    sub = json.load(open(meta["subscribers"])) if os.path.exists(meta["subscribers"]) else None
    if sub:
        say(f"| idle live-stream subscribers | {sub['count']} held | opened in "
            f"{sub['open_seconds']} s | | | {sub['ended_early']} ended early |")
    say("")
    if day_result:
        say(f"Publish → visible, from the start of the editor's request until a poll every "
            f"{POLL_INTERVAL * 1000:.0f} ms sees the change (the live stream: until one "
            f"subscriber receives it); ms, p50 / p99 / max over the writes; goal under 1,000:")
        say("")
        say("| change | writes | story page | home page | feed | API | live stream |")
        say("|---|---:|---:|---:|---:|---:|---:|")
        for kind, label in (("save", "save of the breaking story (new headline)"),
                            ("publish", "new brief")):
            rows = day_result["writes"][kind]
            cells = []
            for surface in SURFACES:
                seen = [r["visible"].get(surface) for r in rows]
                got = [s for s in seen if s is not None]
                cell = (f"{ms(percentile(got, 50))} / {ms(percentile(got, 99))} / "
                        f"{ms(max(got) if got else None)}")
                missing = len(seen) - len(got)
                if missing:
                    cell += f" ({missing} not seen in {VISIBLE_TIMEOUT:.0f} s)"
                cells.append(cell)
            say(f"| {label} | {len(rows)} | " + " | ".join(cells) + " |")
        say("")
        say("Where: the story page is the breaking story (a new brief shows in its latest-news "
            "rail), the home page carries the breaking banner and the rail, the feed is "
            f"`{FEED_PATH}`, the API is `GET /api/v1/items/{{id}}` for the save and "
            "`GET /api/v1/items?lang=en&limit=5` for a brief, the live stream "
            "`/api/v1/live?lang=en`.")
        say("")
    problems = day_problems(meta, day_result)
    say("- **Errors**: " + ("; ".join(problems) if problems else
        "none (no non-2xx/3xx or socket error in any class, no failed write or comment, "
        "every change seen on every surface)"))
    if day_result:
        worst = max((v for kind in ("save", "publish") for r in day_result["writes"][kind]
                     for v in r["visible"].values() if v is not None), default=None)
        say(f"- **Publish → visible**: slowest {ms(worst)} ms over every write and surface "
            f"(goal: under 1,000)")
    if meta.get("rss_kib"):
        say(f"- Peak RSS of `newsdesk serve` (GNU time, whole life of the measured server): "
            f"**{int(meta['rss_kib']) / 1024:.1f} MiB**" +
            (f"; sampled each second during the day: {day_result['rss_kib_first'] / 1024:.1f} MiB "
             f"at the start, {day_result['rss_kib_max'] / 1024:.1f} MiB at most"
             if day_result and day_result.get("rss_kib_max") else ""))
    if day_result and day_result.get("metrics_mid"):
        m = day_result["metrics_mid"]
        say(f"- At mid-run: {', '.join(f'`{k}` {v}' for k, v in sorted(m.items()))}")
    if meta.get("cache"):
        say(f"- Page cache lookups during the day: {meta['cache']} (a miss is every lookup "
            "that found no page, readers who then wait for another reader's render included)")
    if sub and day_result:
        publishes = len(day_result["writes"]["publish"])
        saves = len(day_result["writes"]["save"])
        say(f"- Each idle subscriber received {sub['published_min']}–{sub['published_max']} "
            f"`item.published` and {sub['updated_min']}–{sub['updated_max']} `item.updated` "
            f"messages ({publishes} briefs published and {saves} saves during the day)")
    for note in meta.get("notes", []):
        say(f"- {note}")
    print("\n".join(out))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "setup":
        setup(args[0], args[1], args[2], args[3], args[4], int(args[5]))
    elif command == "subscribers":
        asyncio.run(subscribers(args[0], int(args[1]), float(args[2]), args[3], args[4]))
    elif command == "run":
        asyncio.run(day(args[0], args[1], float(args[2]), args[3], int(args[4])))
    elif command == "report":
        report(args[0])
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
