# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "fleet", bench_fleet.
#
#   fleet    the depot's broker under the whole fleet (fleet_load): 3,000 simulated buses, each
#            its own MQTT connection to a private mosquitto (first connections jittered over 15 s),
#            publishing what a bus publishes (retained status every 10 s, events one every 5 s on
#            average, QoS 1) and subscribed to its requests and the fleet's; over a 60 s window,
#            5 messages fanned out on the fleet topic (latency to every bus, and how many got
#            each), events acknowledged per second, the broker's CPU and RSS and the simulator's;
#            then the broker is killed and started again on the same port, and every bus must be
#            back within 60 s (the bus's reconnect waits, daemon/fleet/backoff.hpp); a collector's
#            subscription to every bus's events gives their latency and the events lost or doubled
#            (across the broker's crash, with `persistence false`, a few may be lost: those the
#            broker acknowledged and had not passed on, or that came before the collector was
#            back). Beside it, the depot service itself collects: `stopcall-fleet serve` (its
#            own login, a SQLite fleet store) is connected before the first bus; from its store,
#            the collector's lag (received_ms, its clock when it stored an event, minus the
#            event's sent_us from fleet_load) p50/p99, and the events acknowledged to a bus that
#            the store lacks (lost) and rows beyond them (doubled: none can be, each
#            (vehicle, seq) is one row). --quick: 300 buses, 30 s.

bench_fleet() {
  local name="fleet" buses=3000 seconds=60
  ((quick)) && { buses=300; seconds=30; }
  local mosquitto
  mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  [[ -x "$mosquitto" ]] || die "mosquitto is missing (run tools/setup)"
  heading "$name: fleet_load, $buses buses for $seconds s, a broker restart, two collectors"
  # The depot service's collector: route data and a control key it needs to start.
  local store="$work/fleet-store.db" go="$work/fleet-go"
  rm -f "$store" "$store"-wal "$store"-shm "$go" "$work/fleet-acked.txt"
  demo_bundle "$work/fleet-demo.db"
  "$build/routes/stopcall-routes" keygen --secret "$work/fleet-control.secret" \
    --public "$work/fleet-control.public" >/dev/null 2>&1 || die "keygen failed"
  echo unused >"$work/fleet-depot.password"  # the bench's broker takes any password
  "$build/daemon/fleet/bench/fleet_load" --buses "$buses" --seconds "$seconds" \
    --mosquitto "$mosquitto" --restart-broker --collector-sub --start-after "$go" \
    --acked-out "$work/fleet-acked.txt" 2>"$work/fleet.log" >"$work/fleet.txt" &
  local load_pid=$! serve_pid="" address="" i
  for ((i = 0; i < 600; i++)); do
    address=$(sed -n 's/^fleet_load: broker at //p' "$work/fleet.log")
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
    touch "$go"
  fi
  wait "$load_pid" || { cat "$work/fleet.log" >&2; [[ -n $serve_pid ]] && kill "$serve_pid"; die "fleet_load failed"; }
  cat "$work/fleet.txt"
  sleep 2  # the last events reach the store
  [[ -n $serve_pid ]] && { kill -TERM "$serve_pid"; wait "$serve_pid" || true; }
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
    "p50 $fleet_fanout_p50_ms, p99 $fleet_fanout_p99_ms ms" "" ""
  row "$name" "  buses that got each" "at least $fleet_fanout_min_buses" "all" \
    "$(verdict "$((fleet_fanout_min_buses == buses))")"
  row "$name" "events acknowledged" "$fleet_events_per_s/s" "" ""
  row "$name" "broker CPU, RSS" "$fleet_broker_cpu_pct % core, $fleet_broker_rss_mb MB" "" ""
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
  row "$name" "serve (SQLite): collector lag" "p50 ${lag%% *}, p99 $(cut -d' ' -f2 <<<"$lag") ms over $(cut -d' ' -f3 <<<"$lag") stored" "" ""
  row "$name" "serve (SQLite): lost, doubled" "${store_figures%%|*} lost, ${store_figures##*|} doubled" "" ""
}
