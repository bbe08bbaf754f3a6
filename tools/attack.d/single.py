"""tools/attack's single attacks, each on a daemon of its own: reader, descriptors, places,
guessing."""
import resource
import socket
import time

from plumbing import FIGURES, TOKEN, WebSocket


def attack_reader(d, seconds):
    before = d.rss_mb()
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.socket)
    s.setblocking(False)
    chunk = b"x\n" * 32768
    written, cut_off, peak = 0, False, before
    end = time.time() + seconds
    while time.time() < end:
        try:
            written += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            cut_off = True
            break
        peak = max(peak, d.rss_mb())
    at_end = d.rss_mb()
    s.close()
    time.sleep(2)
    after = d.rss_mb()
    answered = (d.command('{"cmd":"state"}') or {}).get("ok") is True
    FIGURES.update({"reader.cut_off": int(cut_off), "reader.rss_before_mb": f"{before:.1f}",
                    "reader.rss_peak_mb": f"{peak:.1f}", "reader.rss_after_mb": f"{after:.1f}",
                    "reader.others_answered": int(answered)})
    print(f"reader: {written / 1e6:.1f} MB of lines written in at most {seconds} s; "
          f"cut off: {'yes' if cut_off else 'no'}")
    print(f"reader: daemon RSS {before:.1f} MB before, peak {peak:.1f} MB, {at_end:.1f} MB at the "
          f"end, {after:.1f} MB 2 s after the client left; others answered: {answered}")


def attack_descriptors(d, limit):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, limit + 1024), hard))
    hogs = []
    while d.open_files() < limit and len(hogs) < limit + 512:
        for _ in range(64):
            hogs.append(socket.create_connection(("127.0.0.1", d.port)))
        time.sleep(0.05)
    time.sleep(0.5)
    in_use = d.open_files()
    late = socket.socket(socket.AF_UNIX)
    late.connect(d.socket)
    late.sendall(b'{"cmd":"state"}\n')
    cpu, wall = d.cpu_s(), time.time()
    time.sleep(3)
    cpu, wall = d.cpu_s() - cpu, time.time() - wall
    for h in hogs:
        h.close()
    late.settimeout(20)
    try:
        answered = b'"ok":true' in late.recv(65536)
    except OSError:
        answered = False
    FIGURES.update({"descriptors.in_use": in_use, "descriptors.cpu_pct": f"{100 * cpu / wall:.1f}",
                    "descriptors.answered_after": int(answered)})
    print(f"descriptors: {in_use} of {limit} in use, by {len(hogs)} idle connections")
    print(f"descriptors: daemon CPU {cpu:.2f} s in {wall:.1f} s ({100 * cpu / wall:.0f} % of a "
          f"core) while out of descriptors; the waiting control connection answered afterwards: "
          f"{answered}")


def attack_places(d):
    displays, turned_away = [], 0
    for _ in range(80):
        ws = WebSocket(d.port)
        if ws.status == 101:
            displays.append(ws)
        else:
            turned_away += 1
            ws.close()
    squatters = [WebSocket(d.port, "/ws?role=driver") for _ in range(12)]
    console = WebSocket(d.port, "/ws?role=driver")
    signed_in = acted = False
    if console.status == 101:
        signed_in = console.request({"type": "auth", "id": "a", "token": TOKEN}).get("ok", False)
        acted = console.request({"type": "set_volume", "id": "v", "output": "interior",
                                 "level": 60}).get("ok", False)
    FIGURES.update({"places.displays": len(displays), "places.turned_away": turned_away,
                    "places.console_in": int(signed_in and acted)})
    print(f"places: {len(displays)} displays connected, {turned_away} turned away; "
          f"{sum(s.status == 101 for s in squatters)} consoles that never sign in")
    print(f"places: the real console: handshake {console.status}, signed in {signed_in}, "
          f"acted {acted}")
    for ws in displays + squatters + [console]:
        ws.close()


def attack_guessing(d, seconds):
    guesses = 0
    start = time.time()
    while time.time() - start < seconds:
        ws = WebSocket(d.port, "/ws?role=driver")
        if ws.status == 101:
            reply = ws.request({"type": "auth", "id": f"g{guesses}", "token": f"guess-{guesses}"})
            guesses += not reply.get("ok", False)
        ws.close()
    rate = guesses / (time.time() - start)
    t = time.time()
    ws = WebSocket(d.port, "/ws?role=driver")
    ok = ws.request({"type": "auth", "id": "right", "token": TOKEN}).get("ok", False)
    waited = time.time() - t
    ws.close()
    FIGURES.update({"guessing.per_s": f"{rate:.2f}", "guessing.right_signed_in": int(ok),
                    "guessing.right_wait_s": f"{waited:.2f}"})
    print(f"guessing: {guesses} wrong tokens in {seconds} s: {rate:.1f} guesses/s "
          f"({rate * 3600:.0f} an hour)")
    print(f"guessing: then the right token: signed in {ok} after {waited:.2f} s")
