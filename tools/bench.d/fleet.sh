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
#            back). --quick: 300 buses, 30 s.

bench_fleet() {
  local name="fleet" buses=3000 seconds=60
  ((quick)) && { buses=300; seconds=30; }
  local mosquitto
  mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  [[ -x "$mosquitto" ]] || die "mosquitto is missing (run tools/setup)"
  heading "$name: fleet_load, $buses buses for $seconds s, a broker restart, a collector"
  "$build/daemon/fleet/bench/fleet_load" --buses "$buses" --seconds "$seconds" \
    --mosquitto "$mosquitto" --restart-broker --collector-sub 2>"$work/fleet.log" |
    tee "$work/fleet.txt" || { cat "$work/fleet.log" >&2; die "fleet_load failed"; }
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
}
