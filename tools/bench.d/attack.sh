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

bench_attack() {
  local name="attack"
  local figures="$work/attack-figures.tsv" seconds=10
  ((quick)) && seconds=3
  heading "$name: tools/attack on the Release stopcalld (${seconds} s for the reader and guessing)"
  "$build/routes/stopcall-routes" import "$root/routes/demo/shenzhen-101" \
    --extra "$root/routes/demo/shenzhen-101-extra" -o "$work/attack-demo.db" >/dev/null ||
    die "importing the demo route failed"
  "$root/tools/attack" --daemon "$build/daemon/stopcalld" --bundle "$work/attack-demo.db" \
    --seconds "$seconds" --figures "$figures" || die "tools/attack failed"
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
}
