"""tools/attack live: the abusers, each in a thread of its own while the daemon announces a trip
in real time: control lines, WebSocket messages and frames, bursts of connections, slow headers,
clients that never read. Each counts what it did and what the daemon answered in a Tally."""
import base64
import json
import os
import socket
import struct
import time

from plumbing import (TOKEN, masked_frame, ws_closed_by_server, ws_connect, ws_next_reply,
                      ws_send_raw)


class Tally:
    """What the abusers did and what the daemon answered, from several threads."""

    def __init__(self):
        import threading
        self.lock = threading.Lock()
        self.counts = {}
        self.examples = {}

    def add(self, key, n=1, example=None):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n
            if example is not None and key not in self.examples:
                self.examples[key] = example

    def get(self, key):
        with self.lock:
            return self.counts.get(key, 0)


# Control lines with a field of the wrong type or value: each must be refused.
WRONG_FIELDS = [
    '{"cmd":"signal","signal":"door","state":1}', '{"cmd":5}', '[]', '"state"', '1', 'null',
    '{"cmd":"signal","signal":"door","state":"ajar"}',
    '{"cmd":"signal","signal":"door","state":"open","door":9}',
    '{"cmd":"signal","signal":"door","state":"open","door":0}',
    '{"cmd":"signal","signal":"door","state":"open","door":"1"}',
    '{"cmd":"signal","signal":"ramp","state":"out"}', '{"cmd":"signal","signal":"kneel"}',
    '{"cmd":"signal","signal":"speed","kmh":-1}', '{"cmd":"signal","signal":"speed","kmh":201}',
    '{"cmd":"signal","signal":"speed","kmh":1e999}', '{"cmd":"signal","signal":"speed"}',
    '{"cmd":"signal","signal":"horn","state":"open"}', '{"cmd":"button"}',
    '{"cmd":"button","button":"ramp-assist-now"}', '{"cmd":"button","button":null}',
    '{"cmd":"request","kind":"taxi","stop_id":"CGM-E","route_id":"101"}',
    '{"cmd":"request","kind":"blind","route_id":"101"}',
    '{"cmd":"request","kind":"blind","stop_id":"CGM-E"}',
    '{"cmd":"request","kind":"blind","stop_id":"NOWHERE","route_id":"101"}',
    '{"cmd":"request","kind":"blind","stop_id":"CGM-E","route_id":"101","expires":"2000-01-01T00:00:00Z"}',
    '{"cmd":"request","kind":"blind","stop_id":"CGM-E","route_id":"101","expires":"soon"}',
    '{"cmd":"request","kind":"blind","stop_id":"CGM-E","route_id":"101","expires":"2026-13-45T99:99:99Z"}',
    '{"cmd":"request","kind":"wheelchair","stop_id":"' + "S" * 200 + '","route_id":"101"}',
    '{"cmd":"signal","signal":"door","state":"open","id":"' + "i" * 65 + '"}',
    '{"cmd":"signal","signal":"door","state":"open","id":7}']


def control_garbage(rng):
    """One control line that must be refused: never a command the daemon may carry out."""
    kind = rng.randrange(12)
    if kind == 0:  # random bytes, not UTF-8, NULs
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))).replace(b"\n", b"")
    if kind == 1:  # random printable text
        return "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(1, 300))).encode()
    if kind == 2:  # a real command cut short
        whole = rng.choice([
            '{"cmd":"button","button":"ramp-assist"}', '{"cmd":"signal","signal":"door","state":"open"}',
            '{"cmd":"request","kind":"blind","stop_id":"CGM-E","route_id":"101"}',
            '{"cmd":"signal","signal":"speed","kmh":0}'])
        return whole[:rng.randrange(1, len(whole) - 1)].encode()
    if kind == 3:  # fields of the wrong type or value
        return rng.choice(WRONG_FIELDS).encode()
    if kind == 4:  # commands that do not exist
        return json.dumps({"cmd": rng.choice(["reboot", "shutdown", "say", "volume", "login", "",
                                              "STATE", "state "])}).encode()
    if kind == 5:  # deep nesting
        depth = rng.randrange(10, 2000)
        return ("[" * depth + "]" * depth).encode()[:4000]
    if kind == 6:  # duplicate keys, the second making it wrong
        return b'{"cmd":"signal","signal":"door","state":"open","state":"ajar"}'
    if kind == 7:  # a NUL inside a real command
        return b'{"cmd":"button","button":"ramp-\x00assist"}'
    if kind == 8:  # not UTF-8 inside a real command
        return b'{"cmd":"request","kind":"blind","stop_id":"CGM-\xff\xfe","route_id":"101"}'
    if kind == 9:  # numbers where text is wanted and the like
        return rng.choice([b'{"cmd":"signal","signal":["door"],"state":"open"}',
                           b'{"cmd":"request","kind":"blind","stop_id":{},"route_id":"101"}',
                           b'{"cmd":"signal","signal":"speed","kmh":"12"}',
                           b'{"cmd":"signal","signal":"speed","kmh":true}'])
    if kind == 10:  # JSON that is not one object per line
        return rng.choice([b'{"cmd":"state"} {"cmd":"state"}', b'{"cmd":"state"',
                           b'{"cmd":"state",}', b"{'cmd':'state'}", b'\xef\xbb\xbf{"cmd":"state"}x'])
    return b"\r"  # a bare carriage return: an empty line, ignored


def control_abuse(replay, count, seconds, tally, rng, stop):
    """`count` lines that must be refused, in batches on connections that read their answers;
    every 40th connection ends with a line over the limit (too_large, then closed)."""
    sent, batch, connection = 0, 50, 0
    pause = seconds / max(1, count / batch)
    while sent < count and not stop.is_set():
        connection += 1
        t = time.monotonic()
        lines = [control_garbage(rng) for _ in range(min(batch, count - sent))]
        oversized = connection % 40 == 0
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(20)
            s.connect(replay.socket)
            payload = b"".join(l + b"\n" for l in lines)
            if oversized:
                payload += b'{"cmd":"state","x":"' + b"y" * 70000 + b'"}\n'
            s.sendall(payload)
            # The daemon answers every line but an empty one (a trailing \r taken off).
            expected = sum(1 for l in lines if (l[:-1] if l.endswith(b"\r") else l)) + \
                (1 if oversized else 0)
            tally.add("control.empty", len(lines) + (1 if oversized else 0) - expected)
            got = b""
            while got.count(b"\n") < expected:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            for answer in got.split(b"\n")[:expected]:
                try:
                    reply = json.loads(answer)
                except ValueError:
                    tally.add("control.unreadable_answer", example=answer[:200])
                    continue
                if reply.get("ok") is not False:
                    tally.add("control.accepted", example=answer[:200])
                else:
                    tally.add("control.refused")
                    tally.add("control.error." + str(reply.get("error")))
            if got.count(b"\n") < expected:
                tally.add("control.unanswered", expected - got.count(b"\n"))
            s.close()
        except OSError as e:
            tally.add("control.connection_failed", example=str(e))
        sent += len(lines)
        tally.add("control.lines", len(lines) + (1 if oversized else 0))
        stop.wait(max(0.0, pause - (time.monotonic() - t)))


# Frames that break RFC 6455, each on its own connection: the server must close it.
def bad_frames(rng):
    mask = os.urandom(4)

    def masked(b0, payload, length=None):
        return masked_frame(b0, payload, length, mask)

    kind = rng.randrange(11)
    text = b'{"type":"ramp_assist","id":"f"}'
    if kind == 0:  # not masked
        return bytes([0x81, len(text)]) + text
    if kind == 1:  # reserved bits, no extension agreed
        return masked(0x81 | 0x40, text)
    if kind == 2:  # reserved opcode
        return masked(0x80 | rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), text)
    if kind == 3:  # a control frame over 125 bytes
        return masked(0x89, b"p" * 126)
    if kind == 4:  # a fragmented control frame
        return masked(0x09, b"ping")
    if kind == 5:  # a continuation with nothing to continue
        return masked(0x80, text)
    if kind == 6:  # text that is not UTF-8
        return masked(0x81, b'{"type":"ping","id":"\xff\xfe"}')
    if kind == 7:  # a close with a code nobody may send
        return masked(0x88, struct.pack(">H", rng.choice([0, 999, 1005, 1006, 1015, 2999, 5000])))
    if kind == 8:  # a length of 2^63 and more
        return bytes([0x81, 0x80 | 127]) + b"\x80" + b"\x00" * 7 + mask
    if kind == 9:  # a message larger than the server reads at all, then junk
        return masked(0x81, b"", length=4 << 20)[:14] + os.urandom(2048)
    return masked(0x01, text[:10]) + masked(0x81, text)  # a new message inside a fragmented one


def ws_garbage(rng, role):
    """One WebSocket message (a valid frame) that must be refused, and whether it is binary. A
    display and a console that has not signed in may send real actions: they are not theirs to
    make. The console that has signed in sends only what is broken."""
    real = [
        {"type": "ramp_assist", "id": "r"}, {"type": "repeat_last", "id": "r"},
        {"type": "set_volume", "id": "v", "output": "interior", "level": 100},
        {"type": "set_volume", "id": "v", "output": "exterior", "level": 0},
        {"type": "login_trip", "id": "l", "trip_id": "101-WD-W-0630"},
        {"type": "confirm_detected_trip", "id": "c"},
        {"type": "dismiss_request", "id": "d", "request_id": "req-1"}]
    broken = [
        "not json", "", "{", "[]", "null", '"ramp_assist"', "{}",
        {"type": "ramp_assist"}, {"type": "repeat_last"}, {"id": "x"},
        {"type": 7, "id": "x"}, {"type": "ramp_assist", "id": 7},
        {"type": "ramp_assist", "id": "i" * 65}, {"type": "reboot", "id": "x"},
        {"type": "set_volume", "id": "v", "output": "interior", "level": 101},
        {"type": "set_volume", "id": "v", "output": "interior", "level": -1},
        {"type": "set_volume", "id": "v", "output": "interior", "level": "50"},
        {"type": "set_volume", "id": "v", "output": "interior", "level": 50.5},
        {"type": "set_volume", "id": "v", "output": "interior", "level": 1e300},
        {"type": "set_volume", "id": "v", "output": "cabin", "level": 50},
        {"type": "set_volume", "id": "v", "level": 50},
        {"type": "login_trip", "id": "l", "trip_id": "NO-SUCH-TRIP"},
        {"type": "login_trip", "id": "l", "trip_id": ""},
        {"type": "login_trip", "id": "l", "trip_id": "T" * 300},
        {"type": "login_trip", "id": "l"},
        {"type": "dismiss_request", "id": "d", "request_id": "no-such-request"},
        {"type": "dismiss_request", "id": "d", "request_id": ""},
        {"type": "auth", "id": "a"},
        "[" * 5000 + "]" * 5000,
        {"type": "ramp_assist", "id": "big", "pad": "x" * 20000}]
    choice = rng.choice(broken + (real if role != "console" else []))
    if rng.randrange(40) == 0:
        return b"\x00\x01binary", True
    return (choice if isinstance(choice, str) else json.dumps(choice)).encode(), False



def websocket_abuse(replay, count, seconds, tally, rng, stop):
    """`count` malformed messages (valid frames): from a passenger display, from a console that
    has not signed in and from one that has, each a connection kept while the server keeps it (a
    console that does not sign in is closed after 5 s, and comes again)."""
    port = replay.port
    connections = {}
    pause = seconds / max(1, count)
    roles = {"display": "/ws", "anonymous": "/ws?role=driver", "console": "/ws?role=driver"}
    # A few wrong tokens among them: each makes every sign-in wait longer (the throttle).
    wrong_every = max(1, count // 10)

    def connection(role):
        ws = connections.get(role)
        if ws is None:
            ws = ws_connect(port, roles[role])
            if ws.status != 101:
                tally.add(f"ws.{role}.handshake_{ws.status}")
                ws.sock.close()
                return None
            if role == "console":
                reply = ws.request({"type": "auth", "id": "auth", "token": TOKEN})
                if not reply.get("ok"):
                    tally.add("ws.console.not_signed_in", example=reply)
                    ws.sock.close()
                    return None
            connections[role] = ws
        return ws

    for i in range(count):
        if stop.is_set():
            break
        t = time.monotonic()
        role = ("display", "anonymous", "console")[i % 3]
        try:
            ws = connection(role)
            if ws is None:
                continue
            payload, binary = ws_garbage(rng, role)
            if role != "console" and i % wrong_every == wrong_every - 1:
                payload = json.dumps({"type": "auth", "id": "a", "token": f"wrong-{i}"}).encode()
            ws_send_raw(ws, payload, binary)
            tally.add("ws.messages")
            reply = ws_next_reply(ws)
            if reply is None:
                tally.add(f"ws.{role}.closed")
                connections.pop(role).sock.close()
            elif reply.get("ok") is not False:
                tally.add("ws.accepted", example=(payload[:200], reply))
            else:
                tally.add("ws.refused")
        except (OSError, ConnectionError, ValueError) as e:
            tally.add("ws.error", example=str(e))
            ws = connections.pop(role, None)
            if ws:
                ws.sock.close()
        stop.wait(max(0.0, pause - (time.monotonic() - t)))
    for ws in connections.values():
        ws.sock.close()


def frame_abuse(replay, count, seconds, tally, rng, stop):
    """`count` frames that break RFC 6455, each on a connection of its own (the server must close
    it): from displays and consoles that have not signed in, and one in ten from the console signed
    in with its token."""
    port = replay.port
    pause = seconds / max(1, count)
    for i in range(count):
        if stop.is_set():
            break
        t = time.monotonic()
        role = "console" if i % 10 == 9 else ("display", "anonymous")[i % 2]
        try:
            ws = ws_connect(port, "/ws" if role == "display" else "/ws?role=driver")
            if ws.status == 101:
                if role == "console":
                    ws.request({"type": "auth", "id": "auth", "token": TOKEN})
                ws.sock.sendall(bad_frames(rng))
                tally.add("ws.frames")
                if ws_closed_by_server(ws):
                    tally.add("ws.frames_closed")
                else:
                    tally.add("ws.frames_not_closed")
            else:
                tally.add(f"ws.{role}.handshake_{ws.status}")
            ws.sock.close()
        except (OSError, ConnectionError, ValueError) as e:
            tally.add("ws.error", example=str(e))
        stop.wait(max(0.0, pause - (time.monotonic() - t)))


def burst_abuse(replay, bursts, size, seconds, tally, stop):
    """`size` connections opened at once on the HTTP port, half asking for a page and half for a
    display's WebSocket; every one must be answered."""
    import select
    for b in range(bursts):
        if stop.wait(seconds / (bursts + 1)):
            break
        t = time.monotonic()
        socks = []
        for _ in range(size):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", replay.port))
            except BlockingIOError:
                pass
            socks.append(s)
        key = base64.b64encode(os.urandom(16)).decode()
        for i, s in enumerate(socks):
            request = (f"GET /display.js HTTP/1.1\r\nHost: 127.0.0.1:{replay.port}\r\n\r\n"
                       if i % 2 else
                       f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{replay.port}\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                       f"Sec-WebSocket-Version: 13\r\n\r\n")
            select.select([], [s], [], 10)
            try:
                s.sendall(request.encode())
            except OSError:
                pass
        heads = {s: b"" for s in socks}
        waiting = set(socks)
        deadline = time.monotonic() + 20
        while waiting and time.monotonic() < deadline:
            ready, _, _ = select.select(list(waiting), [], [], 1)
            for s in ready:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    chunk = b""
                heads[s] += chunk
                if not chunk or b"\r\n\r\n" in heads[s]:
                    waiting.discard(s)
        for s in socks:
            head = heads[s]
            status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.1 ") else "none"
            tally.add(f"burst.status_{status}")
            s.close()
        tally.add("burst.connections", size)
        tally.add("burst.max_s", 0)
        with tally.lock:
            tally.counts["burst.slowest_s"] = max(tally.counts.get("burst.slowest_s", 0),
                                                  round(time.monotonic() - t, 2))


def slow_abuse(replay, count, tally, stop):
    """`count` connections at a time sending their request headers one byte a second, never
    finishing them; each is opened again when the daemon has closed it. How long it held one."""
    import select
    header = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{replay.port}\r\nUser-Agent: "
              + "s" * 4000).encode()
    slow = []  # [socket, opened, bytes sent]
    while not stop.is_set():
        while len(slow) < count:
            s = socket.create_connection(("127.0.0.1", replay.port), timeout=5)
            slow.append([s, time.monotonic(), 0])
            tally.add("slow.connections")
        for entry in list(slow):
            s, opened, n = entry
            closed = False
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                try:
                    closed = not s.recv(4096)
                except OSError:
                    closed = True
            if not closed:
                try:
                    s.send(header[n % len(header):n % len(header) + 1])
                    entry[2] += 1
                except OSError:
                    closed = True
            if closed:
                held = time.monotonic() - opened
                with tally.lock:
                    tally.counts["slow.closed"] = tally.counts.get("slow.closed", 0) + 1
                    tally.counts["slow.longest_held_s"] = max(
                        tally.counts.get("slow.longest_held_s", 0), round(held, 1))
                s.close()
                slow.remove(entry)
        stop.wait(1)
    for s, opened, n in slow:
        held = time.monotonic() - opened
        with tally.lock:
            tally.counts["slow.open_at_end_longest_s"] = max(
                tally.counts.get("slow.open_at_end_longest_s", 0), round(held, 1))
        s.close()


def never_reading_abuse(replay, tally, stop):
    """Clients that never read: a passenger display with a small receive buffer, a control client
    writing lines, an HTTP client asking for a page again and again. Each opened again when the
    daemon has let it go."""
    import select
    display = control = page = None
    flood = b"x\n" * 4096
    pipelined = (f"GET /display.js HTTP/1.1\r\nHost: 127.0.0.1:{replay.port}\r\n\r\n" * 200).encode()
    page_opened = 0.0
    while not stop.is_set():
        try:
            if display is None:
                display = ws_connect(replay.port, "/ws", rcvbuf=4096)
                display.sock.setblocking(False)
                tally.add("never_reading.display_connections")
            if control is None:
                control = socket.socket(socket.AF_UNIX)
                control.connect(replay.socket)
                control.setblocking(False)
                tally.add("never_reading.control_connections")
            if page is None:
                page = socket.create_connection(("127.0.0.1", replay.port), timeout=5)
                page.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                page.setblocking(False)
                page_opened = time.monotonic()
                tally.add("never_reading.page_connections")
                try:
                    page.send(pipelined)
                except BlockingIOError:
                    pass
            try:
                control.send(flood)
            except BlockingIOError:
                pass
            except OSError:
                tally.add("never_reading.control_cut_off")
                control.close()
                control = None
            p = select.poll()
            p.register(display.sock, select.POLLRDHUP)
            p.register(page, select.POLLRDHUP)
            for fd, events in p.poll(0):
                if fd == display.sock.fileno():
                    tally.add("never_reading.display_dropped")
                    display.sock.close()
                    display = None
                elif fd == page.fileno():
                    with tally.lock:
                        tally.counts["never_reading.page_longest_held_s"] = max(
                            tally.counts.get("never_reading.page_longest_held_s", 0),
                            round(time.monotonic() - page_opened, 1))
                    tally.add("never_reading.page_closed")
                    page.close()
                    page = None
        except OSError as e:
            tally.add("never_reading.error", example=str(e))
        stop.wait(0.2)
    for s in (display.sock if display else None, control, page):
        if s:
            s.close()
