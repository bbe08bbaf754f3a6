"""tools/attack live: every interface abused while the daemon announces a trip in real time,
compared with the same replay without the abuse."""
import json
import os
import re
import subprocess
import time

from abuse import (Tally, burst_abuse, control_abuse, frame_abuse, never_reading_abuse,
                   slow_abuse, websocket_abuse)
from plumbing import FIGURES, ROOT, TOKEN

TRIP = "101-WD-E-0630"
# The doses: the bench's full one, and the CI test's (smaller, so that it stays quick).
DOSES = {
    "full": {"control": 10000, "websocket": 10000, "bursts": 5, "burst": 200, "slow": 20},
    "ci": {"control": 1000, "websocket": 1000, "bursts": 2, "burst": 200, "slow": 5},
}


class Replay:
    """`stopcalld replay --realtime` of a trace: the screens, the control socket, a clocked null
    sink for the voice, the event log. Knows where the trace's timeline sits on CLOCK_MONOTONIC."""

    def __init__(self, binary, bundle, trace, speed, work, name):
        self.socket = os.path.join(work, f"{name}.sock")
        self.events = os.path.join(work, f"{name}-events.jsonl")
        self.log_path = os.path.join(work, f"{name}-stderr.txt")
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, "replay", "--routes", bundle, "--trip", TRIP, "--no-block", "--gps", trace,
             "--realtime", "--speed", str(speed), "--http", "127.0.0.1:0", "--control", self.socket,
             "--audio", "fakesink sync=true", "--driver-token", TOKEN,
             "--web", os.path.join(ROOT, "hmi", "web"), "--events", self.events],
            stdout=subprocess.DEVNULL, stderr=log)
        self.ready_at = None
        deadline = time.time() + 60
        while time.time() < deadline:
            text = self.log()
            port = re.search(r"passenger display http://127\.0\.0\.1:(\d+)/", text)
            start = re.search(r"real time: the trace's first fix \(([^)]+)\) is due at monotonic "
                              r"(\d+) ns, speed ([0-9.]+)", text)
            if port and start and os.path.exists(self.socket):
                self.port = int(port.group(1))
                self.first = iso_seconds(start.group(1))
                self.start_ns = int(start.group(2))
                self.speed = float(start.group(3))
                self.ready_at = time.monotonic()
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.process.kill()
        raise RuntimeError("stopcalld replay did not start:\n" + self.log())

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def rss_mb(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def running(self):
        return self.process.poll() is None

    def wait(self, timeout):
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def lines(self):
        out = []
        with open(self.events, errors="replace") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"type": "unreadable", "line": line})
        return out


def iso_seconds(text):
    """Seconds since the epoch of the daemon's UTC times (2026-03-01T22:30:04.001Z)."""
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def heard(replay, lines):
    """(announcement id, output) -> how late it was heard, in seconds after it was due: the
    announcement's time on the trace's timeline, placed on CLOCK_MONOTONIC at the replay's speed."""
    decided = {l["id"]: iso_seconds(l["time"]) for l in lines if l.get("type") == "announcement"}
    out = {}
    for l in lines:
        if l.get("type") == "sound" and l.get("id") in decided:
            due_ns = replay.start_ns + (decided[l["id"]] - replay.first) / replay.speed * 1e9
            out[(l["id"], l["output"])] = (l["mono_ns"] - due_ns) / 1e9
    return out


def what_the_bus_did(lines):
    """The event log without its timing: what was decided, announced, prompted, signalled, set.
    (When each was heard, and whether it then finished or was cut short, depend on time.)"""
    out = []
    for l in lines:
        if l.get("type") in ("sound", "announcement_result", "time_zone"):
            continue
        out.append(json.dumps({k: v for k, v in l.items() if k not in ("time", "mono_ns", "after_ms")},
                              sort_keys=True, ensure_ascii=False))
    return out


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def attack_live(args, work):
    import random
    import threading
    dose = DOSES[args.dose]
    build = os.path.dirname(os.path.dirname(args.daemon))  # BUILD/daemon/stopcalld
    scenario = args.scenario or os.path.join(build, "sim", "stopcall-scenario")
    trace = os.path.join(work, "trip.nmea")
    subprocess.run([scenario, "generate", "--routes", args.bundle, "--trip", TRIP,
                    "--noise", "clean", "--seed", "7", "--out-trace",
                    os.path.join(work, "trip.jsonl"), "--nmea", trace],
                   check=True, stdout=subprocess.DEVNULL)
    if args.trip_seconds:
        # The first minutes of the trip (3 NMEA sentences a fix, one fix a second).
        with open(trace) as f:
            kept = f.readlines()[:3 * args.trip_seconds]
        with open(trace, "w") as f:
            f.writelines(kept)

    runs = {}
    for name in ("quiet", "abused"):
        replay = Replay(os.path.abspath(args.daemon), os.path.abspath(args.bundle), trace,
                        args.speed, work, name)
        with open(trace) as f:
            fixes = sum(1 for line in f if line.startswith("$GPRMC"))
        duration = fixes / replay.speed
        abuse_for = 0.8 * duration
        tally, stop = Tally(), threading.Event()
        rss = []

        def sample():
            while replay.running():
                rss.append((time.monotonic() - replay.ready_at, replay.rss_mb()))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        threads = []
        if name == "abused":
            threads = [
                threading.Thread(target=control_abuse, args=(replay, dose["control"], abuse_for,
                                                             tally, random.Random(1), stop)),
                threading.Thread(target=websocket_abuse,
                                 args=(replay, dose["websocket"] * 5 // 6, abuse_for, tally,
                                       random.Random(2), stop)),
                threading.Thread(target=frame_abuse,
                                 args=(replay, dose["websocket"] // 6, abuse_for, tally,
                                       random.Random(3), stop)),
                threading.Thread(target=burst_abuse, args=(replay, dose["bursts"], dose["burst"],
                                                           abuse_for, tally, stop)),
                threading.Thread(target=slow_abuse, args=(replay, dose["slow"], tally, stop)),
                threading.Thread(target=never_reading_abuse, args=(replay, tally, stop))]
            for t in threads:
                t.start()
        alive_during = True
        end = replay.ready_at + abuse_for
        while time.monotonic() < end:
            if not replay.running():
                alive_during = False
                break
            time.sleep(0.2)
        # The dose is given by now (the steady ones stop here); what is left of it is counted.
        stop.set()
        for t in threads:
            t.join(60)
        abuse_ended = time.monotonic() - replay.ready_at
        status = replay.wait(duration + 120)
        sampler.join(5)
        runs[name] = {"replay": replay, "tally": tally, "rss": rss, "status": status,
                      "alive": alive_during and status == 0, "abuse_ended": abuse_ended}
        print(f"live: {name} run: {duration:.0f} s at {replay.speed:g}x, exit status {status}"
              + (f"; abused for {abuse_ended:.0f} s" if threads else ""))

    quiet, abused = runs["quiet"], runs["abused"]
    q_lines, a_lines = quiet["replay"].lines(), abused["replay"].lines()
    q_heard, a_heard = heard(quiet["replay"], q_lines), heard(abused["replay"], a_lines)
    deltas = [(a_heard[k] - q_heard[k]) * 1000 for k in q_heard if k in a_heard]
    missing = sorted(k for k in q_heard if k not in a_heard)
    extra = sorted(k for k in a_heard if k not in q_heard)
    from collections import Counter
    q_did, a_did = Counter(what_the_bus_did(q_lines)), Counter(what_the_bus_did(a_lines))
    changed = list((a_did - q_did).elements())
    lost = list((q_did - a_did).elements())

    def rss_at(samples, t):
        before = [v for at, v in samples if at <= t]
        return before[-1] if before else float("nan")

    t_start, t_end = 1.0, abused["abuse_ended"] + 3
    growth = rss_at(abused["rss"], t_end) - rss_at(abused["rss"], t_start)
    quiet_growth = rss_at(quiet["rss"], t_end) - rss_at(quiet["rss"], t_start)
    peak = max((v for at, v in abused["rss"] if at <= t_end), default=float("nan"))
    tally = abused["tally"]
    accepted = tally.get("control.accepted") + tally.get("ws.accepted")
    FIGURES.update({
        "live.dose": args.dose, "live.speed": f"{args.speed:g}",
        "live.alive": int(quiet["alive"] and abused["alive"]),
        "live.announcements_heard_quiet": len(q_heard),
        "live.announcements_heard_abused": len(a_heard),
        "live.missing": len(missing), "live.extra": len(extra),
        "live.late_p50_ms": f"{percentile(deltas, 0.5):.1f}",
        "live.late_p99_ms": f"{percentile(deltas, 0.99):.1f}",
        "live.late_max_ms": f"{max(deltas, default=float('nan')):.1f}",
        "live.early_max_ms": f"{-min(deltas, default=float('nan')):.1f}",
        "live.changed": len(changed), "live.lost": len(lost), "live.accepted": accepted,
        "live.rss_start_mb": f"{rss_at(abused['rss'], t_start):.1f}",
        "live.rss_peak_mb": f"{peak:.1f}",
        "live.rss_end_mb": f"{rss_at(abused['rss'], t_end):.1f}",
        "live.rss_growth_mb": f"{growth:.1f}",
        "live.rss_growth_quiet_mb": f"{quiet_growth:.1f}",
        # What the abuse added: the trip grows the daemon as much without it (the voice's cache).
        "live.rss_growth_from_abuse_mb": f"{growth - quiet_growth:.1f}",
    })
    for key in sorted(tally.counts):
        FIGURES["live." + key] = tally.counts[key]
    print(f"live: control: {tally.get('control.lines')} lines, {tally.get('control.refused')} "
          f"refused, {tally.get('control.empty')} empty (ignored), "
          f"{tally.get('control.accepted')} accepted, {tally.get('control.unanswered')} unanswered")
    print(f"live: WebSocket: {tally.get('ws.messages')} messages ({tally.get('ws.refused')} "
          f"refused, {tally.get('ws.accepted')} accepted), {tally.get('ws.frames')} bad frames "
          f"({tally.get('ws.frames_closed')} closed by the daemon)")
    bursts = {k[len("burst.status_"):]: v for k, v in tally.counts.items()
              if k.startswith("burst.status_")}
    print(f"live: {tally.get('burst.connections')} connections in bursts of "
          f"{DOSES[args.dose]['burst']}: statuses {bursts}, slowest burst answered in "
          f"{tally.get('burst.slowest_s')} s")
    print(f"live: slow headers: {tally.get('slow.connections')} connections, "
          f"{tally.get('slow.closed')} closed by the daemon, the longest held "
          f"{tally.get('slow.longest_held_s')} s")
    print(f"live: never reading: display dropped {tally.get('never_reading.display_dropped')}x, "
          f"control client cut off {tally.get('never_reading.control_cut_off')}x, page client "
          f"closed {tally.get('never_reading.page_closed')}x (held at most "
          f"{tally.get('never_reading.page_longest_held_s')} s)")
    print(f"live: heard: {len(q_heard)} announcements without abuse, {len(a_heard)} with; "
          f"missing {missing[:5]}, extra {extra[:5]}")
    print(f"live: heard later than without abuse: p50 {percentile(deltas, 0.5):.1f} ms, p99 "
          f"{percentile(deltas, 0.99):.1f} ms, max {max(deltas, default=float('nan')):.1f} ms")
    print(f"live: what the bus did: {len(changed)} line(s) only with abuse, {len(lost)} only "
          f"without; {accepted} abusive message(s) accepted")
    for line in changed[:5] + lost[:5]:
        print(f"live:   {line[:300]}")
    for key, example in tally.examples.items():
        print(f"live:   e.g. {key}: {str(example)[:300]}")
    print(f"live: daemon RSS {rss_at(abused['rss'], t_start):.1f} MB at the start, peak "
          f"{peak:.1f} MB, {rss_at(abused['rss'], t_end):.1f} MB 3 s after the abuse "
          f"(growth {growth:+.1f} MB; without abuse {quiet_growth:+.1f} MB)")
    if not (quiet["alive"] and abused["alive"]):
        for name in ("quiet", "abused"):
            print(f"live: {name}: {runs[name]['replay'].log()[-2000:]}")
        raise RuntimeError("the daemon did not run to the end of the trip")
