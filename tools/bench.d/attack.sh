# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "attack", bench_attack.
#
#   attack   the running daemon attacked as one local client or a careless page could (tools/attack,
#            each attack on a fresh `stopcalld run` at the unit's LimitNOFILE): a control client
#            that writes and never reads (is it cut off; RSS after it left), idle connections until
#            the daemon is out of descriptors (its CPU meanwhile), 80 passenger displays and 12
#            consoles that never sign in (does the real console get in), wrong console tokens on
#            new connections (guesses per second). Targets: the reader cut off and RSS back within
#            5 MB of the start and under the unit's MemoryMax at its peak, CPU under 5 % of a core
#            out of descriptors, the console in, under 1 guess a second.
#            Then every interface abused at once while the daemon announces the demo trip in real
#            time (`stopcalld replay --realtime --speed 4`, screens, control socket, voice on a
#            clocked null sink), against the same replay without the abuse: 10,000 malformed,
#            oversized and random control lines, 10,000 malformed WebSocket frames and messages
#            (a display, the console with and without its token), 200 connections at once (5
#            times), 20 connections sending their headers a byte a second, clients that never
#            read. Targets: every announcement heard, within 50 ms of the run without abuse at
#            p99 (the "sound" lines against the trace's timeline), RSS growth under 5 MB beyond
#            the same run's without abuse (the voice's cache grows either way), no refused
#            message that changed what the bus does (its event log line for line).
#            About 20 minutes (--quick: the first 10 minutes of the trip, a tenth of the dose).

bench_attack() {
  local name="attack"
  local figures="$work/attack-figures.tsv" seconds=10
  ((quick)) && seconds=3
  heading "$name: tools/attack on the Release stopcalld (${seconds} s for the reader and guessing)"
  demo_bundle "$work/attack-demo.db"
  local live=(--dose full --speed 4)
  ((quick)) && live=(--dose ci --speed 4 --trip-seconds 600)
  "$root/tools/attack" --daemon "$build/daemon/stopcalld" --bundle "$work/attack-demo.db" \
    --seconds "$seconds" "${live[@]}" --figures "$figures" || die "tools/attack failed"
  attack_fig() {
    local value
    value=$(awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$figures")
    [[ -n "$value" ]] || die "tools/attack gave no figure $1"
    echo "$value"
  }
  local before peak after max_mb cpu guesses
  before=$(attack_fig reader.rss_before_mb)
  peak=$(attack_fig reader.rss_peak_mb)
  after=$(attack_fig reader.rss_after_mb)
  max_mb=$(sed -n 's/^MemoryMax=\([0-9]*\)M$/\1/p' "$root/systemd/stopcall.service")
  row "$name" "never-reading client cut off" "$(attack_fig reader.cut_off)" "1" \
    "$(verdict "$(attack_fig reader.cut_off)")"
  row "$name" "RSS: start, peak, after" "$before, $peak, $after MB" "< +5 MB" \
    "$(verdict "$(calc '%d' "($after - $before < 5) && (${max_mb:-0} == 0 || $peak < ${max_mb:-0})")")"
  cpu=$(attack_fig descriptors.cpu_pct)
  row "$name" "CPU out of descriptors" "$cpu % of a core ($(attack_fig descriptors.in_use) fds)" \
    "< 5 %" "$(verdict "$(calc '%d' "$cpu < 5")")"
  row "$name" "console with 64 displays in" \
    "$(attack_fig places.console_in) ($(attack_fig places.turned_away) displays turned away)" "1" \
    "$(verdict "$(attack_fig places.console_in)")"
  guesses=$(attack_fig guessing.per_s)
  row "$name" "token guesses per second" "$guesses (right token after $(attack_fig guessing.right_wait_s) s)" \
    "< 1" "$(verdict "$(calc '%d' "$guesses < 1")")"
  local heard quiet late p99 growth changed
  heard=$(attack_fig live.announcements_heard_abused)
  quiet=$(attack_fig live.announcements_heard_quiet)
  # Comparisons with > in parentheses: a bare one in calc's awk printf would write to a file.
  row "$name" "abused: announcements heard" "$heard of $quiet ($(attack_fig live.missing) missing)" \
    "all" "$(verdict "$(calc '%d' "($(attack_fig live.missing) == 0) && ($quiet > 0)")")"
  p99=$(attack_fig live.late_p99_ms)
  late="p50 $(attack_fig live.late_p50_ms), p99 $p99, max $(attack_fig live.late_max_ms) ms"
  row "$name" "abused: heard later than quiet" "$late" "< 50 ms" \
    "$(verdict "$(calc '%d' "$p99 < 50")")"
  growth=$(attack_fig live.rss_growth_from_abuse_mb)
  row "$name" "abused: RSS growth from abuse" \
    "$growth MB ($(attack_fig live.rss_growth_mb) with, $(attack_fig live.rss_growth_quiet_mb) without; start $(attack_fig live.rss_start_mb), peak $(attack_fig live.rss_peak_mb), end $(attack_fig live.rss_end_mb))" \
    "< 5 MB" "$(verdict "$(calc '%d' "$growth < 5")")"
  changed=$(calc '%d' "$(attack_fig live.changed) + $(attack_fig live.lost) + $(attack_fig live.accepted)")
  row "$name" "abused: refused that changed the bus" \
    "$changed (of $(calc '%d' "$(attack_fig live.control.refused) + $(attack_fig live.ws.refused)") refused)" \
    "0" "$(verdict "$(calc '%d' "$changed == 0 && $(attack_fig live.alive) == 1")")"
}
