"""tools/attack's plumbing: the daemon it starts (`stopcalld run`), its control socket, and
just enough of a WebSocket client for a screen."""
import base64
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import time

# tools/attack.d/ is in tools/, at the top of the repository.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "attack-console-token"
FIGURES = {}


def unit_limit(key):
    with open(os.path.join(ROOT, "systemd", "stopcall.service")) as unit:
        for line in unit:
            if line.startswith(key + "="):
                return line.strip().split("=", 1)[1]
    return None


class Daemon:
    def __init__(self, binary, bundle, work, max_files):
        self.work = work
        self.socket = os.path.join(work, "control.sock")
        config = os.path.join(work, "stopcall.toml")
        with open(config, "w") as f:
            f.write(
                f'[routes]\nbundle = "{bundle}"\n[audio]\ninterior = ""\n'
                f'[screens]\nlisten = "127.0.0.1:0"\nweb_root = "{ROOT}/hmi/web"\n'
                f'driver_token = "{TOKEN}"\n[vehicle]\ncontrol_socket = "{self.socket}"\n'
                f"[gps]\nport = {free_port()}\n"
            )
        self.log_path = os.path.join(work, "stderr.txt")
        log = open(self.log_path, "w")

        def limits():
            resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))

        self.process = subprocess.Popen(
            [binary, "--config", config, "run", "--events", os.path.join(work, "events.jsonl")],
            stdout=subprocess.DEVNULL, stderr=log, preexec_fn=limits)
        deadline = time.time() + 30
        while time.time() < deadline:
            m = re.search(r"passenger display http://127\.0\.0\.1:(\d+)/", self.log())
            if m and os.path.exists(self.socket):
                self.port = int(m.group(1))
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("stopcalld did not start:\n" + self.log())

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_files(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def command(self, line, timeout=10):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(self.socket)
        s.sendall(line.encode() + b"\n")
        reply = b""
        while b"\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        s.close()
        return json.loads(reply.split(b"\n")[0]) if reply else None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def masked_frame(b0, payload, length=None, mask=None):
    """A client's frame: first byte `b0`, the payload masked; `length` may lie about its size."""
    mask = mask or os.urandom(4)
    n = len(payload) if length is None else length
    header = bytes([b0])
    if n < 126:
        header += bytes([0x80 | n])
    elif n < 65536:
        header += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        header += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WebSocket:
    """Just enough of RFC 6455 for a screen: handshake, masked text frames out, frames in."""

    def __init__(self, port, target="/ws", timeout=15, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:  # before connecting: the window the server sees
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
             ).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else -1
        self.buffer = head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else b""

    def send(self, message):
        self.sock.sendall(masked_frame(0x81, json.dumps(message).encode()))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _frame(self):
        b0, b1 = self._read(2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read(8))[0]
        return b0, self._read(length)

    def message(self):
        """One whole message: (opcode, payload), its fragments put together (the server
        fragments a large state)."""
        b0, payload = self._frame()
        opcode, fin = b0 & 0x0F, b0 & 0x80
        while not fin and opcode in (1, 2):
            b, more = self._frame()
            if b & 0x0F != 0:  # a control frame between fragments: not ours to answer
                continue
            payload += more
            fin = b & 0x80
        return opcode, payload

    def receive(self):
        opcode, payload = self.message()
        if opcode == 8:
            raise ConnectionError("closed by the server")
        return json.loads(payload) if opcode == 1 else None

    def request(self, message):
        self.send(message)
        while True:
            reply = self.receive()
            if reply and reply.get("type") == "reply" and reply.get("id") == message["id"]:
                return reply

    def close(self):
        self.sock.close()



def ws_connect(port, target, timeout=15, rcvbuf=None):
    return WebSocket(port, target, timeout, rcvbuf)


def ws_send_raw(ws, payload, binary=False):
    ws.sock.sendall(masked_frame(0x82 if binary else 0x81, payload))


def ws_next_reply(ws):
    """The next reply on this connection (broadcasts skipped); None when it was closed."""
    while True:
        try:
            opcode, payload = ws.message()
        except (OSError, ConnectionError):
            return None
        if opcode == 8:
            return None
        if opcode == 1:
            message = json.loads(payload)
            if message.get("type") == "reply":
                return message


def ws_closed_by_server(ws, timeout=10):
    """Reads what comes until the server closes; True when it did within `timeout`."""
    ws.sock.settimeout(timeout)
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if not ws.sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except OSError:
        return False
    return False
