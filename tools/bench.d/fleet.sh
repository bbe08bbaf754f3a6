# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "fleet", bench_fleet.
#
#   fleet    the depot's broker under the whole fleet (fleet_load): 3,000 simulated buses, each
#            its own MQTT connection to a private mosquitto (first connections jittered over 15 s),
#            publishing what a bus publishes (retained status every 10 s, events one every 5 s on
#            average, QoS 1) and subscribed to its requests and the fleet's; over a 90 s window,
#            10 messages fanned out on the fleet topic, 5 emergency and 5 service messages in
#            turn (latency to every bus over both classes, and how many got each), each emergency
#            cancelled fleet-wide 4 s after it was sent and its service message 8 s later (past
#            the next stop a bus says again then); events acknowledged per second, the
#            broker's CPU and RSS and the simulator's;
#            then the broker is restarted as a depot does it (`persistence true`, SIGTERM: it saves
#            its sessions and queued messages, and is started again on the same port), and every
#            bus must be back within 60 s (the bus's reconnect waits, daemon/fleet/backoff.hpp);
#            a collector's subscription to every bus's events gives their latency and the events
#            lost or doubled. Beside it, the depot service itself collects: `stopcall-fleet serve`
#            (its own login, a SQLite fleet store) is connected before the first bus; from its
#            store, the collector's lag (received_ms, its clock when it stored an event, minus the
#            event's sent_us from fleet_load) p50/p99 while the broker is up: the events sent from
#            1 s before the broker was stopped until every bus was back wait for the broker and
#            are a row of their own (how many, stored after it came back, their longest lag);
#            the events acknowledged to a bus that the store lacks (lost) and rows beyond them
#            (doubled: none can be, each (vehicle, seq) is one row): none may be lost, serve's
#            session and what was queued for it outlive the restart; serve's CPU and RSS over the
#            window.
#            With them, real buses (--real-buses N, default 20, 2 with --quick): `stopcalld replay
#            --realtime` on trips of route 101, each with its own login, an event store, the
#            bench's control key and a clocked null output (fakesink sync=true); the fan-out
#            messages are signed and they announce them: "heard" is from the message's publishing
#            to the bus's first "sound" log line for it (both CLOCK_MONOTONIC; an emergency's is
#            its attention tone). An emergency cuts in at once (target p99 < 1.5 s); a service
#            message waits for what is playing by design, so its row has no target and is split:
#            those that came while a stop announcement was under way on that bus (submitted, not
#            yet ended: from its log) and their wait, and the others. Their events count in
#            serve's lost/doubled: every row of a bus's own event store up to its last one at the
#            end must be in serve's store once.
#            --quick: 300 buses, 30 s, 4 messages (2 of each class, cancels after 2 s).

# Real bus $1 (real-$1) on trip $2, on the broker at $3 (HOST:PORT), in the background; its pid
# is appended to fleet_real_pids.
fleet_real_bus() {
  local v="real-$1" trip=$2 host=${3%:*} port=${3##*:} dir="$work/fleet-real"
  "$build/sim/stopcall-scenario" generate --routes "$work/fleet-demo.db" --trip "$trip" \
    --noise urban_multipath --seed "$1" --nmea "$dir/$v.nmea" --out-trace "$dir/$v.jsonl" \
    --out-truth "$dir/$v.truth.jsonl" >/dev/null 2>&1 || die "generating $trip for $v failed"
  cat >"$dir/$v.toml" <<EOF
[events]
store = "$dir/$v-events.db"
[fleet]
host = "$host"
port = $port
vehicle = "$v"
password_file = "$work/fleet-depot.password"
command_key = "$work/fleet-control.public"
status_interval_s = 10
EOF
  "$build/daemon/stopcalld" replay --routes "$work/fleet-demo.db" --gps "$dir/$v.nmea" \
    --trip "$trip" --realtime --speed 1 --store "$dir/$v-events.db" --fleet-config "$dir/$v.toml" \
    --events "$dir/$v-events.jsonl" --no-block --audio "fakesink sync=true" 2>"$dir/$v.log" &
  fleet_real_pids+=($!)
}

# p50, p99, max and count of the numbers on standard input (nearest rank), rounded; "- - - 0"
# when there are none.
fleet_percentiles() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- - - 0"; exit }
    r99 = int(NR * 0.99 + 0.999999); if (r99 < 1) r99 = 1
    r50 = int(NR * 0.5 + 0.999999); if (r50 < 1) r50 = 1
    printf "%.0f %.0f %.0f %d\n", v[r50], v[r99], v[NR], NR }'
}

# Real bus $1's log, as "<vehicle> <k> <heard ns> <busy>" per fan-out message it heard: its
# first "sound" of msg:bench-fanout-K:… (CLOCK_MONOTONIC), and 1 when the message arrived (its
# "sent" line) while a stop announcement was under way: submitted to the voice (its
# "announcement" line; the next stop said again after an emergency keeps its id, so each line is
# one saying, ended by the results that follow it) and not yet ended on every output
# ("announcement_result"), else 0. The
# log's times are the bus's, placed on CLOCK_MONOTONIC by the daemon's "real time" line (the
# trace's first fix is due at monotonic N ns, speed S).
fleet_real_heard() {
  local v=$1 dir="$work/fleet-real" origin
  origin=$(sed -n "s/.*the trace's first fix (\([^)]*\)) is due at monotonic \([0-9]*\) ns, speed \([0-9.]*\).*/\1 \2 \3/p" \
    "$dir/$v.log" 2>/dev/null | head -n 1)
  { grep -hE '"type":"(sound|announcement|announcement_result|message)"' "$dir/$v-events.jsonl" \
    2>/dev/null || true; } | awk -v v="$v" -v origin="$origin" '
    function field(line, key,   at) {
      if (!match(line, "\"" key "\":\"[^\"]*\"")) return ""
      at = substr(line, RSTART + length(key) + 4, RLENGTH - length(key) - 5)
      return at
    }
    function number(line, key) {
      if (!match(line, "\"" key "\":[0-9.]+")) return ""
      return substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
    }
    function days(y, m, d) {
      if (m <= 2) { y--; m += 12 }
      return 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d
    }
    function seconds(t,   d) {  # 2026-03-02T08:00:30.020Z
      d = days(substr(t, 1, 4) + 0, substr(t, 6, 2) + 0, substr(t, 9, 2) + 0)
      return d * 86400 + substr(t, 12, 2) * 3600 + substr(t, 15, 2) * 60 + substr(t, 18, 6)
    }
    function mono(t) { return t0_mono + (seconds(t) - t0) / speed * 1e9 }
    BEGIN { split(origin, o, " "); t0 = seconds(o[1]); t0_mono = o[2]; speed = o[3] + 0
            if (speed <= 0) speed = 1 }
    {
      type = field($0, "type"); id = field($0, "id")
      if (type == "sound" && id ~ /^msg:bench-fanout-[0-9]+:/) {
        k = id; sub(/^msg:bench-fanout-/, "", k); sub(/:.*/, "", k)
        ns = number($0, "mono_ns") + 0
        if (!(k in heard) || ns < heard[k]) heard[k] = ns
      } else if (type == "message" && field($0, "event") == "sent" &&
                 id ~ /^bench-fanout-[0-9]+$/) {
        k = id; sub(/^bench-fanout-/, "", k)
        if (!(k in arrived)) arrived[k] = mono(field($0, "time"))
      } else if (type == "announcement" && id !~ /^msg:/) {
        n++; start[n] = mono(field($0, "time")); last[id] = n  # an id may come again
      } else if (type == "announcement_result" && id !~ /^msg:/ && (id in last)) {
        e = mono(field($0, "time")); i = last[id]
        if (!(i in end) || e > end[i]) end[i] = e
      }
    }
    END {
      for (k in heard) {
        busy = 0
        if (k in arrived) {
          for (i = 1; i <= n; i++)
            if (start[i] <= arrived[k] && (!(i in end) || arrived[k] < end[i])) busy = 1
        }
        printf "%s %s %.0f %d\n", v, k, heard[k], busy
      }
    }'
}

# The real buses' figures, once they are stopped, from fleet-sent.txt ("<k> <published ns>
# <class>") and their logs: heard latency per class (p50 p99 max n) in fleet_heard_emergency and
# fleet_heard_service; of the service messages, those that arrived while a stop announcement was
# under way (their wait: p50 p99 max n, fleet_heard_busy) and the others (fleet_heard_free); how
# many messages each heard and how many emergencies each cancelled (min of the buses); their
# events missing from serve's store.
fleet_real_figures() {
  local n=$1 store=$2 dir="$work/fleet-real" i
  fleet_heard_emergency="- - - 0" fleet_heard_service="- - - 0" fleet_heard_busy="- - - 0"
  fleet_heard_free="- - - 0" fleet_heard_min=0 fleet_cancelled_min=0 fleet_real_lost=0
  ((n)) || return 0
  for ((i = 1; i <= n; i++)); do fleet_real_heard "real-$i"; done >"$work/fleet-heard.txt"
  # "<class> <busy> <ms from publishing to heard>" per bus and message.
  awk 'NR == FNR { sent[$1] = $2; class[$1] = $3; next }
      ($2 in sent) { printf "%s %d %.3f\n", class[$2], $4, ($3 - sent[$2]) / 1e6 }' \
    "$work/fleet-sent.txt" "$work/fleet-heard.txt" >"$work/fleet-heard-ms.txt"
  fleet_heard_emergency=$(awk '$1 == "emergency" { print $3 }' "$work/fleet-heard-ms.txt" | fleet_percentiles)
  fleet_heard_service=$(awk '$1 == "service" { print $3 }' "$work/fleet-heard-ms.txt" | fleet_percentiles)
  fleet_heard_busy=$(awk '$1 == "service" && $2 == 1 { print $3 }' "$work/fleet-heard-ms.txt" | fleet_percentiles)
  fleet_heard_free=$(awk '$1 == "service" && $2 == 0 { print $3 }' "$work/fleet-heard-ms.txt" | fleet_percentiles)
  fleet_heard_min=$(awk -v n="$n" '{ c[$1]++ } END {
      m = -1; for (i = 1; i <= n; i++) { x = c["real-" i] + 0; if (m < 0 || x < m) m = x }
      print m }' "$work/fleet-heard.txt")
  fleet_cancelled_min=$(for ((i = 1; i <= n; i++)); do
    { grep -h '"type":"message"' "$dir/real-$i-events.jsonl" 2>/dev/null || true; } |
      grep '"id":"bench-fanout-[0-9]*"' | grep -c '"event":"cancelled"' || true
  done | sort -n | head -n 1)
  fleet_real_missing "$n" "$store"
}

# The real buses' rows, up to each one's last in fleet_real_last, that serve's store lacks: sets
# fleet_real_lost and fleet_real_rows.
fleet_real_missing() {
  local n=$1 store=$2 dir="$work/fleet-real" i v last lost
  fleet_real_lost=0 fleet_real_rows=0
  for ((i = 1; i <= n; i++)); do
    v="real-$i" last=${fleet_real_last[$i]:-0}
    lost=$(sqlite3 "$store" "ATTACH '$dir/$v-events.db' AS bus;
      SELECT (SELECT count(*) FROM bus.events WHERE seq <= $last)
           - (SELECT count(*) FROM main.events WHERE vehicle = '$v' AND seq <= $last
                AND seq IN (SELECT seq FROM bus.events WHERE seq <= $last))") || lost=$last
    fleet_real_lost=$((fleet_real_lost + lost))
    fleet_real_rows=$((fleet_real_rows + last))
  done
}

bench_fleet() {
  local name="fleet" buses=3000 seconds=90 fanout=10 cancel_after=4 real=${real_buses:-20}
  ((quick)) && { buses=300; seconds=30; fanout=4; cancel_after=2; real=${real_buses:-2}; }
  fleet_real_pids=() fleet_real_rows=0
  local mosquitto crash=()
  ((broker_crash)) && crash=(--crash-broker)  # tools/bench --broker-crash: SIGKILL, reported as such
  mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  [[ -x "$mosquitto" ]] || die "mosquitto is missing (run tools/setup)"
  heading "$name: fleet_load, $buses buses and $real real ones for $seconds s, a broker restart, two collectors"
  # The depot service's collector: route data and a control key it needs to start.
  local store="$work/fleet-store.db" go="$work/fleet-go" end="$work/fleet-end"
  rm -f "$store" "$store"-wal "$store"-shm "$go" "$end" "$work/fleet-acked.txt" "$work/fleet-sent.txt"
  rm -rf "$work/fleet-real" && mkdir -p "$work/fleet-real"
  demo_bundle "$work/fleet-demo.db"
  "$build/routes/stopcall-routes" keygen --secret "$work/fleet-control.secret" \
    --public "$work/fleet-control.public" >/dev/null 2>&1 || die "keygen failed"
  echo unused >"$work/fleet-depot.password"  # the bench's broker takes any password
  "$build/daemon/fleet/bench/fleet_load" --buses "$buses" --seconds "$seconds" --fanout "$fanout" \
    --cancel-after "$cancel_after" --mosquitto "$mosquitto" --restart-broker "${crash[@]}" --collector-sub --start-after "$go" \
    --acked-out "$work/fleet-acked.txt" --command-key "$work/fleet-control.secret" \
    --sent-out "$work/fleet-sent.txt" --end-after "$end" 2>"$work/fleet.log" >"$work/fleet.txt" &
  local load_pid=$! serve_pid="" address="" i
  for ((i = 0; i < 600; i++)); do
    address=$(sed -n 's/^fleet_load: broker at //p' "$work/fleet.log" 2>/dev/null || true)
    [[ -n $address ]] && break
    kill -0 "$load_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -n $address ]]; then
    "$build/depot/stopcall-fleet" serve --broker "$address" --user depot-store \
      --password-file "$work/fleet-depot.password" --store "$store" \
      --bundle "$work/fleet-demo.db" --key "$work/fleet-control.secret" 2>"$work/fleet-serve.log" &
    serve_pid=$!
    for ((i = 0; i < 300; i++)); do
      grep -qs "connected to" "$work/fleet-serve.log" && break
      sleep 0.1
    done
    grep -q "connected to" "$work/fleet-serve.log" ||
      { cat "$work/fleet-serve.log" >&2; kill "$serve_pid" "$load_pid"; die "serve did not connect"; }
    # The real buses, on trips of route 101 one after another, before the simulated ones.
    local trips
    mapfile -t trips < <(sqlite3 "$work/fleet-demo.db" \
      "SELECT trip_id FROM trips WHERE route_id = '101' ORDER BY trip_id")
    ((${#trips[@]})) || die "no trips of route 101 in the demo bundle"
    for ((i = 1; i <= real; i++)); do
      fleet_real_bus "$i" "${trips[$(((i - 1) % ${#trips[@]}))]}" "$address"
    done
    echo "$serve_pid" >"$go.tmp" && mv "$go.tmp" "$go"  # fleet_load measures serve's CPU, RSS
  fi
  # fleet_load keeps its broker up once done, until $end: the real buses send their last events.
  while kill -0 "$load_pid" 2>/dev/null && ! grep -q '^fleet_load: done' "$work/fleet.log"; do
    sleep 0.2
  done
  sleep 2  # the last events reach the store
  # Each real bus's last event so far; what it logs while stopping cannot be sent. Up to 15 s for
  # serve to have them all (a bus sends from its store at its own pace), then the buses stop.
  local pid
  fleet_real_last=()
  for ((i = 1; i <= real; i++)); do
    fleet_real_last[i]=$(sqlite3 "$work/fleet-real/real-$i-events.db" \
      "SELECT coalesce(max(seq), 0) FROM events" 2>/dev/null || echo 0)
  done
  for ((i = 0; i < 150 && real > 0; i++)); do
    fleet_real_missing "$real" "$store"
    ((fleet_real_lost == 0)) && break
    sleep 0.1
  done
  for pid in "${fleet_real_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || echo "a real bus (pid $pid) ended early: see $work/fleet-real" >&2
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${fleet_real_pids[@]}"; do wait "$pid" || true; done
  touch "$end"
  wait "$load_pid" || { cat "$work/fleet.log" >&2; [[ -n $serve_pid ]] && kill "$serve_pid"; die "fleet_load failed"; }
  cat "$work/fleet.txt"
  [[ -n $serve_pid ]] && { kill -TERM "$serve_pid"; wait "$serve_pid" || true; }
  fleet_real_figures "$real" "$store"
  local result
  result=$(grep '^RESULT ' "$work/fleet.txt") || die "fleet_load gave no figures"
  # The RESULT line's key=value pairs, as fleet_KEY.
  local pair key
  for pair in ${result#RESULT }; do
    key=${pair%%=*}
    printf -v "fleet_$key" '%s' "${pair#*=}"
  done
  row "$name" "connected ($buses buses)" "$fleet_ready in $fleet_ramp_s s" "all" \
    "$(verdict "$((fleet_ready == buses))")"
  row "$name" "fleet fan-out ($((fanout - fanout / 2)) emergency, $((fanout / 2)) service)" \
    "p50 $fleet_fanout_p50_ms, p99 $fleet_fanout_p99_ms ms" "p99 < 1000 ms" \
    "$(verdict "$(calc '%d' "($fleet_fanout_p99_ms < 1000)")")"
  row "$name" "  buses that got each" "at least $fleet_fanout_min_buses" "all" \
    "$(verdict "$((fleet_fanout_min_buses == buses))")"
  row "$name" "events acknowledged" "$fleet_events_per_s/s" "" ""
  row "$name" "broker CPU, RSS" "$fleet_broker_cpu_pct % core, $fleet_broker_rss_mb MB" "" ""
  if ((real)); then
    local h50 h99 hmax hn b50 b99 bmax bn f50 f99 fmax fn
    read -r h50 h99 hmax hn <<<"$fleet_heard_emergency"
    row "$name" "emergency heard on $real real buses" "p50 $h50, p99 $h99, max $hmax ms ($hn heard)" \
      "p99 < 1500 ms" "$(verdict "$([[ $h99 != - ]] && calc '%d' "($h99 < 1500)" || echo 0)")"
    read -r h50 h99 hmax hn <<<"$fleet_heard_service"
    row "$name" "service heard on $real real buses" "p50 $h50, p99 $h99, max $hmax ms ($hn heard)" "" ""
    read -r b50 b99 bmax bn <<<"$fleet_heard_busy"
    read -r f50 f99 fmax fn <<<"$fleet_heard_free"
    row "$name" "  came while a stop announcement played" \
      "$bn of $hn, waited p50 $b50, p99 $b99, max $bmax ms" "" ""
    row "$name" "  heard while the voice was free" "p50 $f50, p99 $f99, max $fmax ms ($fn heard)" "" ""
    row "$name" "  messages each real bus heard" "at least $fleet_heard_min of $fanout" "all" \
      "$(verdict "$((fleet_heard_min == fanout))")"
    row "$name" "  emergencies each real bus cancelled" \
      "at least $fleet_cancelled_min of $((fanout - fanout / 2))" "all" \
      "$(verdict "$((fleet_cancelled_min == fanout - fanout / 2))")"
    row "$name" "real buses' events not in serve" "$fleet_real_lost of $fleet_real_rows" "0" \
      "$(verdict "$((fleet_real_lost == 0 && fleet_real_rows > 0))")"
  fi
  row "$name" "serve CPU, RSS" "$fleet_serve_cpu_pct % core, $fleet_serve_rss_mb MB (peak $fleet_serve_peak_mb)" "" ""
  row "$name" "simulator CPU, RSS" "$fleet_self_cpu_pct % core, $fleet_self_rss_mb MB" "" ""
  if [[ $fleet_reconnect_s == -1.0 ]]; then
    row "$name" "back after broker restart" "not all within 120 s" "< 60 s" FAIL
  else
    row "$name" "back after broker restart" "all in $fleet_reconnect_s s" "< 60 s" \
      "$(verdict "$(calc '%d' "($fleet_reconnect_s < 60)")")"
  fi
  row "$name" "collector: event latency" \
    "p50 $fleet_collector_p50_ms, p99 $fleet_collector_p99_ms ms" "" ""
  row "$name" "collector: lost, doubled" "$fleet_lost lost, $fleet_doubled doubled" "" ""
  # The depot service's store: lag per event, and each bus's acknowledged events it lacks. The
  # lag's target is the broker's steady state: events sent from 1 s before the broker was stopped
  # until every bus was back wait for the broker (their loss is the lost row's).
  local lag acked_rows store_figures around="0" steady="1"
  if [[ $fleet_restart != none ]]; then
    around="json_extract(line, '$.sent_us') BETWEEN $((fleet_broker_stop_us - 1000000)) AND $fleet_all_back_us"
    steady="NOT ($around)"
  fi
  lag=$(sqlite3 "$store" "SELECT received_ms - json_extract(line, '$.sent_us') / 1000.0 FROM events
      WHERE json_extract(line, '$.sent_us') IS NOT NULL AND $steady ORDER BY 1" |
    awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "- -"; exit }
      p50 = v[int((NR - 1) * 0.5) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
      printf "%.1f %.1f %d\n", p50, p99, NR }')
  acked_rows=$(awk -v q="'" '{ printf "%s(%s%s%s,%d)", (NR > 1 ? "," : ""), q, $1, q, $2 }' \
    "$work/fleet-acked.txt")
  store_figures=$(sqlite3 "$store" "WITH acked(vehicle, n) AS (VALUES $acked_rows)
    SELECT (SELECT sum(n) FROM acked)
             - (SELECT count(*) FROM events e JOIN acked a ON a.vehicle = e.vehicle
                WHERE e.seq BETWEEN 1 AND a.n),
           (SELECT count(*) - count(DISTINCT vehicle || ' ' || seq) FROM events)")
  row "$name" "serve (SQLite): collector lag" "p50 ${lag%% *}, p99 $(cut -d' ' -f2 <<<"$lag") ms over $(cut -d' ' -f3 <<<"$lag") stored" \
    "p99 < 2000 ms$([[ $fleet_restart != none ]] && echo ", broker up")" \
    "$(verdict "$([[ ${lag%% *} != - ]] && calc '%d' "($(cut -d' ' -f2 <<<"$lag") < 2000)" || echo 0)")"
  if [[ $fleet_restart != none ]]; then
    local restart_figures r_n r_after r_max
    restart_figures=$(sqlite3 -separator ' ' "$store" "SELECT count(*),
        coalesce(sum(received_ms * 1000 >= $fleet_broker_up_us), 0),
        coalesce(printf('%.0f', max(received_ms - json_extract(line, '$.sent_us') / 1000.0)), '-')
      FROM events WHERE $around")
    read -r r_n r_after r_max <<<"$restart_figures"
    row "$name" "  events sent around the restart" \
      "$r_n, $r_after stored after the broker came back, max lag $r_max ms" "" ""
  fi
  local store_lost=${store_figures%%|*} store_doubled=${store_figures##*|}
  row "$name" "serve (SQLite): lost, doubled" "$store_lost lost, $store_doubled doubled" \
    "0, 0 (restart: $fleet_restart)" \
    "$(verdict "$((${store_lost:-1} == 0 && ${store_doubled:-1} == 0))")"
}
