# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "routes", bench_routes.
#
#   routes   route bundles: imports a synthetic city-scale GTFS feed (stopcall-make-city-feed)
#            with `stopcall-routes import`, and, on the same CSV files in the same run, times the
#            sqlite3 shell's `.import` into bare tables as the floor. Then times the daemon's read
#            API on the city bundle (routes_bench). Targets: import within 2x of the floor, peak
#            RSS under 500 MB, load_trip under 5 ms.

bench_routes() {
  local name="route bundles"
  local routes=1500 stops=15000 trips=80000
  if ((quick)); then
    routes=150 stops=1500 trips=8000
  fi
  local feed="$work/city-feed" bundle="$work/city.bundle" floor_db="$work/floor.db"
  local gen="$build/routes/bench/stopcall-make-city-feed"
  local importer="$build/routes/stopcall-routes"
  local reader="$build/routes/bench/routes_bench"

  heading "$name: synthetic city feed ($routes routes, $stops stops, $trips trips)"
  local start=$EPOCHREALTIME
  "$gen" "$feed" --seed 1 --routes "$routes" --stops "$stops" --trips "$trips" ||
    die "stopcall-make-city-feed failed"
  echo "generated in $(calc '%.1f' "$EPOCHREALTIME - $start") s"
  local feed_bytes stop_times
  feed_bytes=$(cat "$feed"/*.txt | wc -c)
  stop_times=$(($(wc -l <"$feed/stop_times.txt") - 1))

  # The floor: the same CSV files into a fresh database with the sqlite3 shell, one untyped table
  # per file with the file's header as its columns: no checks, no indexes, no second pass, the
  # shell's default settings.
  local script="$work/floor.sql" file table header
  : >"$script"
  for file in "$feed"/*.txt; do
    table=$(basename "$file" .txt)
    header=$(head -n 1 "$file" | tr -d '\r' | sed 's/^\xEF\xBB\xBF//; s/"//g; s/[^,][^,]*/"&"/g')
    printf 'CREATE TABLE "%s"(%s);\n.import --csv --skip 1 "%s" "%s"\n' \
      "$table" "$header" "$file" "$table" >>"$script"
  done

  # Import and floor take turns, $runs times each, so that both see the same machine; the best
  # wall time of each is compared, and the highest peak RSS is reported.
  local import_times=() floor_times=() import_kb=0 floor_kb=0 bundle_bytes floor_rows run
  for ((run = 1; run <= runs; run++)); do
    heading "$name: stopcall-routes import (run $run of $runs)"
    rm -f "$bundle"
    timed "$work/import.log" "$importer" import "$feed" -o "$bundle"
    cat "$work/import.log"
    import_times+=("$wall_s")
    ((rss_kb > import_kb)) && import_kb=$rss_kb
    bundle_bytes=$(stat -c %s "$bundle")
    echo "wall $wall_s s, peak RSS $(calc '%.0f' "$rss_kb * 1024 / 1e6") MB," \
      "bundle $(calc '%.1f' "$bundle_bytes / 1e6") MB"

    heading "$name: floor, the sqlite3 shell's .import into bare tables (run $run of $runs)"
    rm -f "$floor_db"
    timed "$work/floor.log" sqlite3 -bail "$floor_db" <"$script"
    [[ ! -s "$work/floor.log" ]] || { cat "$work/floor.log" >&2; die "sqlite3 .import complained"; }
    floor_times+=("$wall_s")
    ((rss_kb > floor_kb)) && floor_kb=$rss_kb
    floor_rows=$(sqlite3 "$floor_db" 'SELECT count(*) FROM stop_times')
    ((floor_rows == stop_times)) || die "the floor imported $floor_rows stop_times, not $stop_times"
    echo "wall $wall_s s, peak RSS $(calc '%.0f' "$rss_kb * 1024 / 1e6") MB," \
      "database $(calc '%.1f' "$(stat -c %s "$floor_db") / 1e6") MB"
    rm -f "$floor_db"
  done
  local import_s floor_s import_spread floor_spread
  import_s=$(printf '%s\n' "${import_times[@]}" | sort -g | head -n 1)
  floor_s=$(printf '%s\n' "${floor_times[@]}" | sort -g | head -n 1)
  import_spread=$(printf '%s\n' "${import_times[@]}" | sort -g | paste -sd/)
  floor_spread=$(printf '%s\n' "${floor_times[@]}" | sort -g | paste -sd/)

  heading "$name: read API on the city bundle (routes_bench)"
  STOPCALL_BENCH_BUNDLE="$bundle" "$reader" --benchmark_out="$work/routes_bench.json" \
    --benchmark_out_format=json || die "routes_bench failed"
  # Google Benchmark's JSON has one key per line: name, then the figures of that run.
  local figures
  figures=$(awk -F': ' '
    /"name":/ { gsub(/[",]/, "", $2); sub(/\/real_time$/, "", $2); name = $2 }
    /"(real_time|p50_us|p99_us|error_occurred)":/ {
      key = $1; gsub(/[ "]/, "", key); value = $2; gsub(/[",]/, "", value)
      print name, key, value
    }' "$work/routes_bench.json")
  if grep -q ' error_occurred true' <<<"$figures"; then
    die "routes_bench reported an error (see above)"
  fi
  fig() { awk -v n="$1" -v k="$2" '$1 == n && $2 == k { print $3 / 1000; exit }' <<<"$figures"; }
  local load_mean load_p50 load_p99 open_ms candidates_ms near_ms
  load_mean=$(fig load_trip real_time)
  load_p50=$(fig load_trip p50_us)
  load_p99=$(fig load_trip p99_us)
  open_ms=$(fig open real_time)
  candidates_ms=$(fig candidate_trips_0800 real_time)
  near_ms=$(fig stops_near_500m real_time)
  [[ -n "$load_mean" && -n "$load_p50" ]] || die "routes_bench gave no load_trip figures"

  local ratio rss_mb
  ratio=$(calc '%.2f' "$import_s / ($floor_s > 0 ? $floor_s : 0.01)")
  rss_mb=$(calc '%.0f' "$import_kb * 1024 / 1e6")
  local scale="full scale"
  ((quick)) && scale="1/10 scale (--quick)"
  row "$name" "feed: $scale" "$(calc '%.2f' "$stop_times / 1e6") M stop_times, $(calc '%.0f' "$feed_bytes / 1e6") MB CSV" "" ""
  row "$name" "import wall time, best" "$import_s s  (runs: $import_spread)" "" ""
  row "$name" "import peak RSS" "$rss_mb MB" "< 500 MB" "$(verdict "$(calc '%d' "$rss_mb < 500")")"
  row "$name" "bundle size" "$(calc '%.1f' "$bundle_bytes / 1e6") MB" "" ""
  row "$name" "floor: sqlite3 .import, best" "$floor_s s  (runs: $floor_spread)" "" ""
  row "$name" "import / floor" "${ratio}x" "<= 2x" "$(verdict "$(calc '%d' "$ratio <= 2")")"
  row "$name" "load_trip p50 / mean" "$(calc '%.2f' "$load_p50") / $(calc '%.2f' "$load_mean") ms" \
    "< 5 ms" "$(verdict "$(calc '%d' "$load_mean < 5 && $load_p50 < 5")")"
  row "$name" "load_trip p99" "$(calc '%.2f' "$load_p99") ms" "" ""
  row "$name" "Bundle::open" "$(calc '%.2f' "$open_ms") ms" "" ""
  row "$name" "candidate_trips at 08:00" "$(calc '%.2f' "$candidates_ms") ms" "" ""
  row "$name" "stops_near 500 m" "$(calc '%.2f' "$near_ms") ms" "" ""
}
