#!/usr/bin/env python3
"""The driver console's emergency button to the first sound on both outputs.

    console_trigger.py STOPCALLD STOPCALLCTL BUNDLE [TRIGGERS]

`stopcalld run` with two clocked outputs (fakesink sync=true), the screens and a control socket.
Each time: a long service message plays on both outputs (sent with stopcallctl), then the console,
signed in over its WebSocket, sends the `evacuate` preset confirmed (the second press). Timed from
just before the WebSocket frame is sent to the first sample of the attention tone rendered on each
output (the daemon's "sound" log line, CLOCK_MONOTONIC like time.monotonic_ns). Then both messages
are cancelled. Prints figures and a RESULT line; never gates.
"""
import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The screens' WebSocket client of the abuse test (RFC 6455, enough for a screen).
_loader = importlib.machinery.SourceFileLoader("attack", os.path.join(ROOT, "tools", "attack"))
_spec = importlib.util.spec_from_loader("attack", _loader)
attack = importlib.util.module_from_spec(_spec)
_loader.exec_module(attack)

TOKEN = "bench-console"
BUSY = ("Please note: this is a long service message that is still playing when the emergency "
        "comes, so that the emergency has to cut into it on both speakers.")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    stopcalld, ctl, bundle = sys.argv[1:4]
    triggers = int(sys.argv[4]) if len(sys.argv) > 4 else 12
    work = tempfile.mkdtemp(prefix="console_trigger.")
    sock, events = os.path.join(work, "control.sock"), os.path.join(work, "events.jsonl")
    config = os.path.join(work, "stopcall.toml")
    with open(config, "w") as f:
        f.write(f'[routes]\nbundle = "{bundle}"\n'
                '[audio]\ninterior = "fakesink sync=true"\nexterior = "fakesink sync=true"\n'
                f'[screens]\nlisten = "127.0.0.1:0"\nweb_root = "{ROOT}/hmi/web"\n'
                f'driver_token = "{TOKEN}"\n[vehicle]\ncontrol_socket = "{sock}"\n'
                f"[gps]\nport = {attack.free_port()}\n")
    log = open(os.path.join(work, "stderr.txt"), "w+")
    daemon = subprocess.Popen([stopcalld, "--config", config, "run", "--events", events],
                              stdout=subprocess.DEVNULL, stderr=log)
    port = None
    for _ in range(600):
        log.seek(0)
        m = re.search(r"passenger display http://127\.0\.0\.1:(\d+)/", log.read())
        if m and os.path.exists(sock):
            port = int(m.group(1))
            break
        time.sleep(0.05)
    if port is None:
        daemon.kill()
        print("console_trigger: stopcalld did not start", file=sys.stderr)
        return 1
    time.sleep(0.5)  # the outputs' pipelines reach PLAYING

    def ctl_cmd(*args):
        subprocess.run([ctl, "--socket", sock, *args], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)

    offset = 0

    def fresh():
        nonlocal offset
        with open(events) as f:
            f.seek(offset)
            lines = []
            for line in f:
                if not line.endswith("\n"):
                    break
                offset += len(line.encode())
                lines.append(json.loads(line))
            return lines

    console = attack.WebSocket(port, "/ws?role=driver")
    signed_in = console.request({"type": "auth", "id": "a", "token": TOKEN}).get("ok", False)
    heard = {"interior": [], "exterior": []}
    both, failures = [], 0
    for i in range(triggers if signed_in else 0):
        ctl_cmd("message", "--kind", "service", "--outputs", "both", "--id", "busy",
                "--text", "en=" + BUSY)
        deadline, sounding = time.time() + 10, 0
        while sounding < 2 and time.time() < deadline:
            sounding += sum(1 for j in fresh()
                            if j.get("type") == "sound" and j["id"].startswith("msg:busy:"))
            time.sleep(0.005)
        time.sleep(0.3)  # well into it
        t0 = time.monotonic_ns()
        reply = console.request({"type": "send_message", "id": f"c{i}", "preset": "evacuate",
                                 "confirmed": True})
        first, message_id = {}, None
        deadline = time.time() + 10
        while len(first) < 2 and time.time() < deadline:
            for j in fresh():
                if j.get("type") == "message" and j.get("event") == "sent":
                    message_id = j["id"]
                if (j.get("type") == "sound" and j["id"].startswith("msg:")
                        and not j["id"].startswith("msg:busy:")):
                    first.setdefault(j["output"], (j["mono_ns"] - t0) / 1e6)
            time.sleep(0.005)
        if not reply.get("ok") or len(first) < 2:
            failures += 1
        else:
            for output, ms in first.items():
                heard[output].append(ms)
            both.append(max(first.values()))
        if message_id:
            ctl_cmd("message", "--cancel", message_id)
        ctl_cmd("message", "--cancel", "busy")
        time.sleep(0.5)  # the fades and the results
    daemon.terminate()
    daemon.wait(10)
    print(f"console emergency button -> first sound (WebSocket -> daemon -> media), {len(both)} "
          f"triggers, outputs 'fakesink sync=true'{'' if signed_in else ' (console sign-in FAILED)'}")
    print(f"  {'output':<10} {'p50':>8} {'p95':>8} {'max':>8}")
    for name, values in (("interior", heard["interior"]), ("exterior", heard["exterior"]),
                         ("both", both)):
        if values:
            print(f"  {name:<10} {percentile(values, 0.5):6.1f}ms {percentile(values, 0.95):6.1f}ms "
                  f"{max(values):6.1f}ms")
    print(f"RESULT console_first_sound_p95_ms={percentile(both, 0.95):.1f} "
          f"failures={failures + (0 if signed_in else 1)}")
    return 0 if failures == 0 and signed_in else 1


if __name__ == "__main__":
    sys.exit(main())
