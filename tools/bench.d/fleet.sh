# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "fleet", bench_fleet.
#
#   fleet    the depot's broker under the whole fleet (fleet_load): 3,000 simulated buses, each
#            its own MQTT connection to a private mosquitto (first connections jittered over 15 s),
#            publishing what a bus publishes (retained status every 10 s, events one every 5 s on
#            average, QoS 1) and subscribed to its requests and the fleet's; over a 60 s window,
#            5 messages fanned out on the fleet topic (latency to every bus, and how many got
#            each), events acknowledged per second, the broker's CPU and RSS and the simulator's;
#            then the broker is restarted as a depot does it (`persistence true`, SIGTERM: it saves
#            its sessions and queued messages, and is started again on the same port), and every
#            bus must be back within 60 s (the bus's reconnect waits, daemon/fleet/backoff.hpp);
#            a collector's subscription to every bus's events gives their latency and the events
#            lost or doubled. Beside it, the depot service itself collects: `stopcall-fleet serve` (its
#            own login, a SQLite fleet store) is connected before the first bus; from its store,
#            the collector's lag (received_ms, its clock when it stored an event, minus the
#            event's sent_us from fleet_load) p50/p99, and the events acknowledged to a bus that
#            the store lacks (lost) and rows beyond them (doubled: none can be, each
#            (vehicle, seq) is one row): none may be lost, serve's session and what was queued
#            for it outlive the restart; serve's CPU and RSS over the window.
#            With them, real buses (--real-buses N, default 20, 2 with --quick): `stopcalld replay
#            --realtime` on trips of route 101, each with its own login, an event store, the
#            bench's control key and a clocked null output (fakesink sync=true); the fan-out messages are signed service messages they announce:
#            "heard" is from the message's publishing to the bus's "sound" log line for it (both
#            CLOCK_MONOTONIC). Their events count in serve's lost/doubled: every row of a bus's
#            own event store up to its last one at the end must be in serve's store once.
#            --quick: 300 buses, 30 s.

# Real bus $1 (real-$1) on trip $2, on the broker at $3 (HOST:PORT), in the background; its pid
# is appended to fleet_real_pids.
fleet_real_bus() {
  local v="real-$1" trip=$2 host=${3%:*} port=${3##*:} dir="$work/fleet-real"
  "$build/daemon/scenario/stopcall-scenario" generate --routes "$work/fleet-demo.db" --trip "$trip" \
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

# The real buses' figures, once they are stopped: heard latency (p50 p99 max n), how many
# messages each heard (min of the buses), and their events missing from serve's store.
fleet_real_figures() {
  local n=$1 store=$2 dir="$work/fleet-real" i v
  fleet_heard="- - - 0" fleet_heard_min=0 fleet_real_lost=0
  ((n)) || return 0
  # Per bus and message, the first "sound" of msg:bench-fanout-K:…, minus its publishing.
  for ((i = 1; i <= n; i++)); do
    v="real-$i"
    { grep -h '"type":"sound"' "$dir/$v-events.jsonl" 2>/dev/null || true; } |
      sed -n 's/.*"id":"msg:bench-fanout-\([0-9]*\):[^"]*".*"mono_ns":\([0-9]*\).*/\1 \2/p' |
      awk -v v="$v" '!($1 in first) || $2 < first[$1] { first[$1] = $2 }
        END { for (k in first) print v, k, first[k] }'
  done >"$work/fleet-heard.txt"
  fleet_heard=$(awk 'NR == FNR { sent[$1] = $2; next }
      ($2 in sent) { print ($3 - sent[$2]) / 1e6 }' "$work/fleet-sent.txt" "$work/fleet-heard.txt" |
    sort -g | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "- - - 0"; exit }
      r99 = int(NR * 0.99 + 0.999999); if (r99 < 1) r99 = 1
      r50 = int(NR * 0.5 + 0.999999); if (r50 < 1) r50 = 1
      printf "%.0f %.0f %.0f %d\n", v[r50], v[r99], v[NR], NR }')
  fleet_heard_min=$(awk -v n="$n" '{ c[$1]++ } END {
      m = -1; for (i = 1; i <= n; i++) { x = c["real-" i] + 0; if (m < 0 || x < m) m = x }
      print m }' "$work/fleet-heard.txt")
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
  local name="fleet" buses=3000 seconds=60 real=${real_buses:-20}
  ((quick)) && { buses=300; seconds=30; real=${real_buses:-2}; }
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
  "$build/daemon/fleet/bench/fleet_load" --buses "$buses" --seconds "$seconds" \
    --mosquitto "$mosquitto" --restart-broker "${crash[@]}" --collector-sub --start-after "$go" \
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
  row "$name" "fleet fan-out (5 messages)" \
    "p50 $fleet_fanout_p50_ms, p99 $fleet_fanout_p99_ms ms" "p99 < 1000 ms" \
    "$(verdict "$(calc '%d' "($fleet_fanout_p99_ms < 1000)")")"
  row "$name" "  buses that got each" "at least $fleet_fanout_min_buses" "all" \
    "$(verdict "$((fleet_fanout_min_buses == buses))")"
  row "$name" "events acknowledged" "$fleet_events_per_s/s" "" ""
  row "$name" "broker CPU, RSS" "$fleet_broker_cpu_pct % core, $fleet_broker_rss_mb MB" "" ""
  if ((real)); then
    local h50 h99 hmax hn
    read -r h50 h99 hmax hn <<<"$fleet_heard"
    row "$name" "heard on $real real buses" "p50 $h50, p99 $h99, max $hmax ms ($hn heard)" \
      "p99 < 1500 ms" "$(verdict "$([[ $h99 != - ]] && calc '%d' "($h99 < 1500)" || echo 0)")"
    row "$name" "  messages each real bus heard" "at least $fleet_heard_min of 5" "all" \
      "$(verdict "$((fleet_heard_min == 5))")"
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
  # The depot service's store: lag per event, and each bus's acknowledged events it lacks.
  local lag acked_rows store_figures
  lag=$(sqlite3 "$store" "SELECT received_ms - json_extract(line, '$.sent_us') / 1000.0 FROM events
      WHERE json_extract(line, '$.sent_us') IS NOT NULL ORDER BY 1" |
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
    "p99 < 2000 ms" "$(verdict "$([[ ${lag%% *} != - ]] && calc '%d' "($(cut -d' ' -f2 <<<"$lag") < 2000)" || echo 0)")"
  local store_lost=${store_figures%%|*} store_doubled=${store_figures##*|}
  row "$name" "serve (SQLite): lost, doubled" "$store_lost lost, $store_doubled doubled" \
    "0, 0 (restart: $fleet_restart)" \
    "$(verdict "$((${store_lost:-1} == 0 && ${store_doubled:-1} == 0))")"
}
