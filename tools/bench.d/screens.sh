# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "screens", bench_screens.
#
#   screens  the passenger displays on the running daemon (hmi_bench): `stopcalld replay --realtime
#            --speed 20 --http` of the demo route's first trip (urban multipath noise), the voice
#            on a fakesink, run twice: with no display, then with 50 WebSocket displays, 49 reading
#            and 1 stalled (small SO_RCVBUF, never reads or writes; it reconnects when dropped).
#            The daemon's CPU (utime + stime, % of one core) over the same 60 s window of both
#            runs, its RSS every second, every reader's `seq` sequence. Targets: CPU with 50
#            displays under 5 % of a core, RSS growth (peak - start, to the end of the trace)
#            under 20 MB with the stalled display, every reader got every message in order.

bench_screens() {
  local name="screens"
  local speed=20 window=60
  if ((quick)); then
    speed=60 window=10
  fi
  local importer="$build/routes/stopcall-routes"
  local scenario="$build/sim/stopcall-scenario"
  local bench="$build/hmi/bench/hmi_bench"
  local bundle="$work/screens-demo.bundle" trace="$work/screens-trace.jsonl"
  local figures="$work/screens.figures"

  # The trace: whole trips of block 101-WD-01 from 06:30, at least the window and a margin long
  # once replayed at $speed x (the first trip alone lasts 101 s at 20x).
  heading "$name: the demo route and a trace lasting at least $((window + 15)) s at ${speed}x"
  "$importer" import "$root/routes/demo/shenzhen-101" --extra "$root/routes/demo/shenzhen-101-extra" \
    -o "$bundle" >"$work/screens-import.log" 2>&1 ||
    { cat "$work/screens-import.log" >&2; die "importing the demo route failed"; }
  "$scenario" generate --routes "$bundle" --trip 101-WD-E-0630 --follow-block \
    --hours "$(calc '%.3f' "($window + 15) * $speed / 3600")" --noise urban_multipath --seed 1 \
    --out-trace "$trace" || die "generating the screens' trace failed"

  heading "$name: stopcalld with no display, then with 50 (49 reading, 1 stalled)"
  "$bench" --daemon "$build/daemon/stopcalld" --routes "$bundle" --gps "$trace" --speed "$speed" \
    --window "$window" --work "$work/screens" --figures "$figures" ||
    die "hmi_bench failed (daemon logs: $work/screens/, --keep keeps them)"
  screens_fig() { awk -v k="$1" '$1 == k { print $2; exit }' "$figures"; }

  local cpu0 cpun growth window_growth idle_growth run_s readers complete drops first_drop
  cpu0=$(screens_fig cpu_pct_0)
  cpun=$(screens_fig cpu_pct_n)
  growth=$(screens_fig rss_growth_mb_n)
  window_growth=$(calc '%.1f' "$(screens_fig rss_peak_mb_n) - $(screens_fig rss_start_mb_n)")
  idle_growth=$(calc '%.1f' "$(screens_fig rss_peak_mb_0) - $(screens_fig rss_start_mb_0)")
  run_s=$(screens_fig rss_run_s)
  readers=$(screens_fig readers)
  complete=$(screens_fig readers_complete)
  drops=$(screens_fig stalled_drops)
  first_drop=$(screens_fig stalled_first_drop_s)
  [[ -n "$cpun" && -n "$growth" && -n "$readers" ]] || die "hmi_bench wrote no figures"

  local scale="speed ${speed}x, CPU window ${window} s"
  ((quick)) && scale="$scale (--quick)"
  row "$name" "replay" "$scale" "" ""
  row "$name" "daemon CPU, no display" "$cpu0 % of a core" "" ""
  row "$name" "daemon CPU, 50 displays" "$cpun % of a core" "< 5 %" \
    "$(verdict "$(calc '%d' "$cpun < 5")")"
  row "$name" "RSS growth, 1 display stalled" "$growth MB over $run_s s" "< 20 MB" \
    "$(verdict "$(calc '%d' "$growth < 20")")"
  row "$name" "RSS growth in window, 50 / 0" "$window_growth / $idle_growth MB" "" ""
  row "$name" "stalled display dropped" \
    "$drops time(s), first after ${first_drop} s" "" ""
  row "$name" "every display got everything" \
    "$complete of $readers, $(screens_fig broadcasts) broadcasts" "all" \
    "$(verdict "$(screens_fig readers_ok)")"
  row "$name" "delivery latency p99" "$(screens_fig latency_p99_ms) ms" "" ""
}
