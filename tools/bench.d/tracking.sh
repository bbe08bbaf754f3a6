# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "tracking", bench_tracking.
#
#   tracking the scenario suite at full size (stopcall-scenario suite): simulated buses on the demo
#            route (40 trips) and on the real feeds bullrunner-gtfs.zip and poa.zip (imported on
#            the fly from shared/data) x 6 noise models x 5 seeds, the tracker through stopcalld's
#            replay and the geofence baseline side by side. Targets: every stop right on clean
#            traces, at least 99.5 % over all noise models together, no duplicate or out-of-order
#            announcement, better than the baseline on every noise model. Then `stopcalld replay`
#            on a 12-hour day at 10 Hz (the trips of a block; best of --runs): at least 200,000
#            fixes/s, and peak RSS under 64 MB with the city bundle (when the routes section ran
#            in the same invocation; else the demo route). Then the live path: one trip as NMEA
#            through a real gpsd (gpsfake) into `stopcalld run`: TPV received to event written,
#            under 5 ms at p99.

bench_tracking() {
  local name="tracking"
  local trips=40 real_trips=20 seeds=5 hours=12
  if ((quick)); then
    trips=4 real_trips=2 seeds=1 hours=1.2
  fi
  local scenario="$build/sim/stopcall-scenario"
  local importer="$build/routes/stopcall-routes"
  local daemon="$build/daemon/stopcalld"
  local shared="${STOPCALL_SHARED_DATA:-$root/../shared/data}"
  local models=(clean urban_multipath urban_canyon tunnel sparse hz10)

  # The bundles: the demo route, and the real feeds with shapes, imported on the fly.
  heading "$name: bundles for the scenario suite"
  local bundles=() labels=() counts=() picked=() feed zip
  "$importer" import "$root/routes/demo/shenzhen-101" --extra "$root/routes/demo/shenzhen-101-extra" \
    -o "$work/demo.bundle" >"$work/import-demo.log" 2>&1 ||
    { cat "$work/import-demo.log" >&2; die "importing the demo route failed"; }
  tail -n 1 "$work/import-demo.log"
  bundles+=("$work/demo.bundle") labels+=("demo route (Shenzhen 101)") picked+=("$trips")
  for feed in bullrunner-gtfs poa; do
    zip="$shared/gtfs/real/$feed.zip"
    if [[ ! -f "$zip" ]]; then
      echo "skipped $feed: $zip not found"
      continue
    fi
    "$importer" import "$zip" -o "$work/$feed.bundle" >"$work/import-$feed.log" 2>&1 ||
      { cat "$work/import-$feed.log" >&2; die "importing $zip failed"; }
    tail -n 1 "$work/import-$feed.log"
    bundles+=("$work/$feed.bundle") labels+=("$feed.zip") picked+=("$real_trips")
  done

  # The suite on each bundle, the tracker and the geofence baseline side by side.
  local i start
  for i in "${!bundles[@]}"; do
    heading "$name: scenario suite on ${labels[$i]}: up to ${picked[$i]} trips x ${#models[@]} noise models x $seeds seeds"
    start=$EPOCHREALTIME
    "$scenario" suite --routes "${bundles[$i]}" --trips "${picked[$i]}" --seeds "$seeds" --quiet \
      --failures "$work/scenario-failures-$i" --max-failures 20 --counts "$work/suite-$i.tsv" ||
      die "the scenario suite failed on ${labels[$i]}"
    echo "ran in $(calc '%.0f' "$EPOCHREALTIME - $start") s; the tracker's first 20 failing runs" \
      "(GeoJSON, trace, truth, events): $work/scenario-failures-$i/ (--keep keeps them)"
    counts+=("$work/suite-$i.tsv")
  done

  # Every bundle together, per noise model: model runs stops tracker geofence dup ooo extra.
  local together
  together=$(awk -F'\t' '
    FNR == 1 { next }
    {
      for (f = 2; f <= 10; f++) {
        sum[$1, f] += $f
        sum["all", f] += $f
      }
      seen[$1] = 1
    }
    END {
      n = split("clean urban_multipath urban_canyon tunnel sparse hz10 all", order, " ")
      for (k = 1; k <= n; k++) {
        m = order[k]
        if (m != "all" && !(m in seen)) continue
        line = m
        for (f = 2; f <= 10; f++) line = line " " sum[m, f] + 0
        print line
      }
    }' "${counts[@]}")
  heading "$name: every bundle together (${labels[*]})"
  printf '%-16s %5s %7s  %9s %9s  %-16s %-16s\n' "noise model" runs stops tracker geofence \
    "tracker dup/ooo" "geofence dup/ooo"
  local model model_runs stops ours base dup ooo extra bdup booo ours_pct base_pct
  while read -r model model_runs stops ours base dup ooo extra bdup booo; do
    ours_pct=$(calc '%.2f' "100 * $ours / ($stops > 0 ? $stops : 1)")
    base_pct=$(calc '%.2f' "100 * $base / ($stops > 0 ? $stops : 1)")
    printf '%-16s %5d %7d  %7s %% %7s %%  %-16s %-16s\n' "$model" "$model_runs" "$stops" "$ours_pct" \
      "$base_pct" "$dup/$ooo/$extra" "$bdup/$booo/0"
    case "$model" in
      clean)
        row "$name" "clean: stops right" "$ours_pct % of $stops" "100 %" \
          "$(verdict "$((ours == stops))")"
        ;;
      hz10)
        row "$name" "hz10: stops right" "$ours_pct % of $stops" "100 %" \
          "$(verdict "$((ours == stops))")"
        ;;
      sparse)
        row "$name" "sparse (0.2 Hz): stops right" "$ours_pct % of $stops" ">= 98 %" \
          "$(verdict "$((ours * 100 >= stops * 98))")"
        ;;
      all)
        row "$name" "all noise models: stops right" "$ours_pct % of $stops" "" ""
        row "$name" "duplicate/out-of-order/extra" "$dup / $ooo / $extra" "0" \
          "$(verdict "$((dup + ooo + extra == 0))")"
        ;;
    esac
    if [[ "$model" != all ]]; then
      row "$name" "$model vs geofence" "$ours_pct % vs $base_pct %" "better" \
        "$(verdict "$((ours > base))")"
    fi
  done <<<"$together"
  echo "(dup/ooo: duplicate / out-of-order / extra announcements)"
  # The receivers of 1 Hz and more together (every model but sparse).
  local one_hz
  one_hz=$(awk '$1 != "sparse" && $1 != "all" { s += $3; r += $4 } END { printf "%d %d", r, s }' \
    <<<"$together")
  read -r ours stops <<<"$one_hz"
  row "$name" ">= 1 Hz models together: stops right" \
    "$(calc '%.2f' "100 * $ours / ($stops > 0 ? $stops : 1)") % of $stops" ">= 99.5 %" \
    "$(verdict "$((ours * 1000 >= stops * 995))")"

  # The independent road test (../shared/road-test): another simulator's buses on three open
  # feeds, NMEA through gpsd's decoder, the trip given and found from GPS alone. Its tables beside
  # ours; the same test on six other cities is kept apart.
  local road="$root/../shared/road-test/run.sh"
  if [[ -x "$road" ]]; then
    heading "$name: road test (../shared/road-test), trip given"
    "$road" "$build" --out "$work/road-test-trip" | tail -n +2
    heading "$name: road test, trip found from GPS alone (scored by stop id)"
    "$road" "$build" --auto --out "$work/road-test-auto" | tail -n +2
    heading "$name: road test, the geofence baseline on the same traces"
    "$root/tools/road-test-geofence" "$build" "$work/road-test-geofence" | tail -n +2
    local measure value target result
    while IFS=$'\t' read -r measure value target result; do
      row "$name" "$measure" "$value" "$target" "$result"
    done < <("$root/tools/road-test-summary" "$work/road-test-trip" "$work/road-test-auto")
  else
    echo "skipped the road test: $road not found"
  fi

  # stopcalld replay on a long day at 10 Hz: the trips of one block, one after the other.
  local replay_bundle="$work/demo.bundle" replay_label="the demo route"
  if [[ -f "$work/city.bundle" ]]; then
    replay_bundle="$work/city.bundle" replay_label="the city bundle (routes section)"
  fi
  local first_trip
  first_trip=$("$scenario" trips --routes "$replay_bundle" --count 1) ||
    die "no trip in $replay_bundle"
  heading "$name: stopcalld replay of a ${hours}-hour day at 10 Hz on $replay_label"
  "$scenario" generate --routes "$replay_bundle" --trip "$first_trip" --noise hz10 --seed 1 \
    --follow-block --hours "$hours" --out-trace "$work/day.jsonl" ||
    die "generating the day's trace failed"
  local fixes rate best_rate=0 replay_kb=0 run
  fixes=$(wc -l <"$work/day.jsonl")
  for ((run = 1; run <= runs; run++)); do
    timed "$work/replay.log" "$daemon" replay --routes "$replay_bundle" --gps "$work/day.jsonl" \
      --trip "$first_trip" --events "$work/day-events.jsonl"
    cat "$work/replay.log"
    rate=$(sed -n 's/.*(\([0-9][0-9]*\) fixes\/s).*/\1/p' "$work/replay.log")
    [[ -n "$rate" ]] || die "stopcalld replay reported no rate"
    ((rate > best_rate)) && best_rate=$rate
    ((rss_kb > replay_kb)) && replay_kb=$rss_kb
    echo "wall $wall_s s, peak RSS $(calc '%.1f' "$rss_kb * 1024 / 1e6") MB"
  done
  local replay_mb
  replay_mb=$(calc '%.1f' "$replay_kb * 1024 / 1e6")
  row "$name" "replay: day's trace" "$fixes fixes, $(grep -c '"trip_started"' "$work/day-events.jsonl" || true) trips" \
    ">= 400000" "$(verdict "$((fixes >= 400000))")"
  row "$name" "replay throughput, best" "$best_rate fixes/s" ">= 200000" \
    "$(verdict "$((best_rate >= 200000))")"
  if [[ "$replay_bundle" == "$work/city.bundle" ]]; then
    row "$name" "replay peak RSS, city bundle" "$replay_mb MB" "< 64 MB" \
      "$(verdict "$(calc '%d' "$replay_mb < 64")")"
  else
    row "$name" "replay peak RSS, demo route" "$replay_mb MB (city: run 'routes' too)" "" ""
  fi

  # The live path: one trip of the demo route as NMEA through a real gpsd (gpsfake) into
  # `stopcalld run`, which reports the time from a TPV received to the events it caused written.
  # The trip's first 700 fixes (about 12 minutes of driving, five stops), fed fast (4 ms between
  # sentences: about 10 s).
  local live_trip=101-WD-E-0630 port=$((30000 + RANDOM % 20000)) cycle=0.004
  heading "$name: gpsd (gpsfake) to event: stopcalld run on trip $live_trip of the demo route"
  "$scenario" generate --routes "$work/demo.bundle" --trip "$live_trip" --noise clean --seed 7 \
    --out-trace "$work/live-trace.jsonl" --nmea "$work/live-trip.nmea" ||
    die "generating the live trace failed"
  # gpsd needs a moment to recognise NMEA on a new device: lead in with no-fix sentences.
  python3 - "$work/live-trip.nmea" "$work/live.nmea" <<'PY' || die "writing the live NMEA failed"
import functools, sys
with open(sys.argv[2], "w") as out:
    for i in range(300):
        body = "GPRMC,05%02d%02d.00,V,,,,,,,020326,,,N" % (i // 60, i % 60)
        out.write("$%s*%02X\r\n" % (body, functools.reduce(lambda a, c: a ^ ord(c), body, 0)))
    with open(sys.argv[1]) as trip:
        for line in trip.readlines()[:2100]:
            out.write(line)
PY
  local lines latency exit_after
  lines=$(wc -l <"$work/live.nmea")
  # gpsfake stays up after its log (for its clients), so the daemon stops itself once the log has
  # had twice the time it needs, and gpsfake (with its gpsd) is stopped after it.
  exit_after=$(calc '%d' "$lines * $cycle * 2 + 10")
  "$daemon" run --routes "$work/demo.bundle" --trip "$live_trip" --gpsd "127.0.0.1:$port" \
    --events "$work/live-events.jsonl" --exit-after "$exit_after" >"$work/live.log" 2>&1 &
  local daemon_pid=$!
  sleep 1
  setsid gpsfake -q -1 -P "$port" -c "$cycle" "$work/live.nmea" >"$work/gpsfake.log" 2>&1 &
  local fake_pid=$!
  wait "$daemon_pid" || { cat "$work/live.log" >&2; die "stopcalld run failed"; }
  kill -KILL -- "-$fake_pid" 2>/dev/null || true
  wait "$fake_pid" 2>/dev/null || true
  grep -q '"departed"' "$work/live-events.jsonl" || die "the live run saw the bus leave no stop"
  latency=$(grep -o 'fix-to-event latency.*' "$work/live.log") ||
    { cat "$work/live.log" >&2; die "stopcalld run reported no latency"; }
  echo "$(grep -c . "$work/live-events.jsonl") events from $lines NMEA sentences; $latency"
  local p99_us
  p99_us=$(sed -n 's/.*p99 \([0-9.]*\) us.*/\1/p' <<<"$latency")
  row "$name" "gpsd to event, p99 (live)" "$(calc '%.2f' "$p99_us / 1000") ms" "< 5 ms" \
    "$(verdict "$(calc '%d' "$p99_us < 5000")")"
}
