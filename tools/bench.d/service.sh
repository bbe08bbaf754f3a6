# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "service", bench_service.
#
#   service  the service as systemd sees it (service_bench), on the city bundle of the routes
#            section (or one made here): exec of `stopcalld run` to READY=1 on a NOTIFY_SOCKET of
#            ours (voice, screens, control socket and state configured; gpsd absent, retried), RSS
#            10 s after READY, and peak RSS of a real-time replay speaking and serving a trip.
#            Then `stopcalld replay` of a 2-hour 10 Hz day without and with `--store` (the SQLite
#            event store), taking turns. Targets: READY under 300 ms, RSS under 80 MB, replay with
#            the store at least 95 % of the throughput without it.

bench_service() {
  local name="service"
  local bundle="$work/city.bundle" label="the city bundle (routes section)"
  if [[ ! -f "$bundle" ]]; then
    label="a city bundle (1500 routes, 15000 stops, 80000 trips)"
    local feed="$work/service-city-feed"
    if ((quick)); then
      "$build/routes/bench/stopcall-make-city-feed" "$feed" --seed 1 --routes 150 --stops 1500 \
        --trips 8000 >/dev/null || die "stopcall-make-city-feed failed"
      label="a tenth-size city bundle (--quick)"
    else
      "$build/routes/bench/stopcall-make-city-feed" "$feed" --seed 1 --routes 1500 --stops 15000 \
        --trips 80000 >/dev/null || die "stopcall-make-city-feed failed"
    fi
    bundle="$work/service-city.bundle"
    "$build/routes/stopcall-routes" import "$feed" -o "$bundle" >/dev/null || die "import failed"
  fi
  local trip
  trip=$("$build/sim/stopcall-scenario" trips --routes "$bundle" --count 1) ||
    die "no trip in $bundle"
  "$build/sim/stopcall-scenario" generate --routes "$bundle" --trip "$trip" \
    --noise clean --seed 1 --out-trace "$work/service-trip.jsonl" >/dev/null ||
    die "trace generation failed"
  heading "$name: service_bench on $label"
  local runs=10
  ((quick)) && runs=3
  "$build/daemon/bench/service_bench" --stopcalld "$build/daemon/stopcalld" --routes "$bundle" \
    --runs "$runs" --trace "$work/service-trip.jsonl" --trip "$trip" | tee "$work/service.txt" ||
    die "service_bench failed"
  local ready worst rss peak
  ready=$(sed -n 's/.*ready_median_ms=\([0-9.]*\).*/\1/p' "$work/service.txt")
  worst=$(sed -n 's/.*ready_worst_ms=\([0-9.]*\).*/\1/p' "$work/service.txt")
  rss=$(sed -n 's/.*rss_mb=\([0-9.]*\).*/\1/p' "$work/service.txt")
  peak=$(sed -n 's/.*replay_peak_mb=\([0-9.]*\).*/\1/p' "$work/service.txt")
  [[ -n "$ready" && -n "$rss" ]] || die "service_bench gave no figures"
  row "$name" "start to READY (city bundle)" "median $ready ms, worst $worst ms" "< 300 ms" \
    "$(verdict "$(calc '%d' "($worst < 300)")")"
  row "$name" "steady-state RSS, GStreamer incl." "$rss MB idle, $peak MB speaking a trip" \
    "< 80 MB" "$(verdict "$(calc '%d' "($rss < 80 && $peak < 80)")")"

  # The event store's cost: the same replay with and without --store, taking turns, best of each.
  local hours=2
  ((quick)) && hours=0.5
  "$build/sim/stopcall-scenario" generate --routes "$bundle" --trip "$trip" \
    --noise hz10 --seed 1 --follow-block --hours "$hours" --out-trace "$work/service-day.jsonl" \
    >/dev/null || die "trace generation failed"
  heading "$name: stopcalld replay of ${hours} h at 10 Hz, without and with the event store"
  local plain=0 stored=0 run rate
  for ((run = 1; run <= runs / 2 + 1; run++)); do
    for mode in plain stored; do
      local extra=()
      [[ $mode == stored ]] && { rm -f "$work/service-store.db"*; extra=(--store "$work/service-store.db"); }
      "$build/daemon/stopcalld" replay --routes "$bundle" --gps "$work/service-day.jsonl" \
        --trip "$trip" "${extra[@]}" --events /dev/null 2>"$work/service-replay.log" ||
        die "replay failed: $(cat "$work/service-replay.log")"
      rate=$(sed -n 's/.*(\([0-9]*\) fixes\/s).*/\1/p' "$work/service-replay.log")
      echo "$mode: $rate fixes/s"
      if [[ $mode == plain ]]; then ((rate > plain)) && plain=$rate; else ((rate > stored)) && stored=$rate; fi
    done
  done
  row "$name" "replay with the event store" "$stored vs $plain fixes/s ($(calc '%.1f' "100 * $stored / $plain") %)" \
    ">= 95 %" "$(verdict "$((stored * 100 >= plain * 95))")"
}
