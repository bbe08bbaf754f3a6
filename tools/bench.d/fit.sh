# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "fit", bench_fit.
#
#   fit      do stop announcements fit the stretch (fit_bench): every trip of the road test
#            (../shared/road-test: its feeds imported, its NMEA traces) and the demo route
#            (imported with its announcement data; a two-hour morning of block 101-WD-01 from
#            stopcall-scenario, urban multipath noise, as tools/demo makes it) replayed fast through
#            the real pipeline, in zh-Hans, yue and en, every spoken text rendered once with
#            espeak-ng, played on a simulated interior timeline by the media engine's rules.
#            Side by side: always the full form, the form chosen on estimated lengths, and on the
#            rendered lengths (the daemon's case). Targets (chosen form, rendered lengths): no stop
#            name cut off, no announcement overlapping the next. --quick: five road-test trips and
#            half an hour of the demo.

bench_fit() {
  local name="fit"
  local importer="$build/routes/stopcall-routes"
  local scenario="$build/sim/stopcall-scenario"
  local bench="$build/daemon/bench/fit_bench"
  local road="${STOPCALL_ROAD_TEST:-$root/../shared/road-test}"
  local runs="$work/fit-runs.tsv" hours=2
  ((quick)) && hours=0.5
  : >"$runs"

  heading "$name: bundles and traces"
  if [[ -f "$road/manifest.json" ]]; then
    local feed
    for feed in "$road"/feeds/*.zip; do
      feed=$(basename "$feed" .zip)
      "$importer" import "$road/feeds/$feed.zip" -o "$work/fit-$feed.bundle" \
        >"$work/fit-import-$feed.log" 2>&1 ||
        { cat "$work/fit-import-$feed.log" >&2; die "importing the road test's $feed failed"; }
    done
    local dir feed_name trip n=0
    while IFS=$'\t' read -r dir feed_name trip; do
      ((quick && n >= 5)) && break
      gunzip -c "$road/scenarios/$dir/trace.nmea.gz" >"$work/fit-$dir.nmea"
      printf '%s\t%s\t%s\t%s\n' "$dir" "$work/fit-$feed_name.bundle" "$work/fit-$dir.nmea" \
        "$trip" >>"$runs"
      n=$((n + 1))
    done < <(python3 -c '
import json, sys
for s in json.load(open(sys.argv[1]))["scenarios"]:
    print(s["dir"], s["feed"], s["trip_id"], sep="\t")' "$road/manifest.json")
    echo "road test: $n trips"
  else
    echo "skipped the road test: $road/manifest.json not found"
  fi
  "$importer" import "$root/routes/demo/shenzhen-101" --extra "$root/routes/demo/shenzhen-101-extra" \
    -o "$work/fit-demo.bundle" >"$work/fit-import-demo.log" 2>&1 ||
    { cat "$work/fit-import-demo.log" >&2; die "importing the demo route failed"; }
  "$scenario" generate --routes "$work/fit-demo.bundle" --trip 101-WD-E-0630 --follow-block \
    --hours "$hours" --noise urban_multipath --seed 1 --out-trace "$work/fit-demo.jsonl" \
    --nmea "$work/fit-demo.nmea" --out-truth "$work/fit-demo-truth.jsonl" \
    >"$work/fit-generate.log" 2>&1 ||
    { cat "$work/fit-generate.log" >&2; die "generating the demo morning failed"; }
  printf 'demo\t%s\t%s\t%s\n' "$work/fit-demo.bundle" "$work/fit-demo.nmea" 101-WD-E-0630 >>"$runs"
  echo "demo route: block 101-WD-01 from 06:30, $hours h"

  heading "$name: fit_bench (simulated interior timeline, espeak-ng lengths)"
  "$bench" "$runs" | tee "$work/fit.out" || die "fit_bench failed"

  fit_fig() {  # the figure in row $1, column $2 (1 always full, 2 estimated, 3 rendered)
    awk -v k="$1" -v c="$2" 'index($0, k) == 1 { print $(NF - 3 + c); exit }' "$work/fit.out"
  }
  local cut_before cut overlap_before overlap
  cut_before=$(fit_fig "stop names cut off" 1)
  cut=$(fit_fig "stop names cut off" 3)
  overlap_before=$(fit_fig "announcements overlapping the next" 1)
  overlap=$(fit_fig "announcements overlapping the next" 3)
  row "$name" "stop names cut off" "$cut (always full: $cut_before)" "0" "$(verdict "$((cut == 0))")"
  row "$name" "overlapping the next" "$overlap (always full: $overlap_before)" "0" \
    "$(verdict "$((overlap == 0))")"
}
