# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "media", bench_media.
#
#   media    the media engine, headless (media_bench: fakesink sync=true and WAV outputs, 30
#            announcements per case, 10,000 for memory, heard in real time: about 17 minutes;
#            --quick: a tenth, and 100 for memory): trigger to first sample
#            rendered (submit() to the start cue) p50/p95 for pre-rendered speech, clips (cached and
#            first play) and uncached speech; |cue start - measured onset| and the pause error in
#            the WAV the engine wrote; idle CPU of two outputs, and with a cabin microphone
#            (audiotestsrc) for the automatic gain; RSS over the announcements. Targets: first
#            sample p95 under 100 ms for clips and pre-rendered speech and under 300 ms for
#            uncached speech, cue p95 under 30 ms, pause error p95 under 20 ms, idle CPU under 1 %
#            of a core, RSS growth over the second half of the announcements under 1 MiB beyond
#            the audio cache's own growth (the cache is bounded at 4 MiB).

bench_media() {
  local name="media"
  local bench="$build/media/bench/media_bench"
  local figures="$work/media-figures.tsv"
  local args=(--figures "$figures")
  ((quick)) && args+=(--quick)

  heading "$name: media_bench ${args[*]} (headless: fakesink sync=true and WAV outputs)"
  "$bench" "${args[@]}" || die "media_bench failed"

  media_fig() {
    local value
    value=$(awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$figures")
    [[ -n "$value" ]] || die "media_bench gave no figure $1"
    echo "$value"
  }
  # A trigger-to-first-sample row: p50 and p95, the p95 against a target in ms.
  media_latency_row() {
    local measure=$1 key=$2 target=$3 p50 p95 n
    p50=$(media_fig "latency.$key.p50")
    p95=$(media_fig "latency.$key.p95")
    n=$(media_fig "latency.$key.n")
    row "$name" "$measure" "p50 $(calc '%.1f' "$p50"), p95 $(calc '%.1f' "$p95") ms" \
      "< $target ms" "$(verdict "$(calc '%d' "($n > 0 && $p95 < $target)")")"
  }
  local scale
  scale="$(calc '%d' "$(media_fig latency.cached_speech.n)") per case, $(calc '%d' "$(media_fig memory.announcements)") for memory"
  ((quick)) && scale="$scale (--quick)"
  row "$name" "announcements" "$scale" "" ""
  media_latency_row "first sample: cached speech" cached_speech 100
  media_latency_row "first sample: clip, cached" clip_cached 100
  media_latency_row "first sample: clip, 1st play" clip_cold 100
  media_latency_row "first sample: uncached speech" uncached_speech 300

  local onset gap onset_n gap_n cpu cpu_mic growth half count
  onset=$(media_fig accuracy.onset.p95)
  onset_n=$(media_fig accuracy.onset.n)
  gap=$(media_fig accuracy.gap.p95)
  gap_n=$(media_fig accuracy.gap.n)
  row "$name" "cue start vs onset, p95" \
    "$(calc '%.1f' "$onset") ms (max $(calc '%.1f' "$(media_fig accuracy.onset.max)"))" \
    "< 30 ms" "$(verdict "$(calc '%d' "($onset_n > 0 && $onset < 30)")")"
  row "$name" "pause error, p95" \
    "$(calc '%.1f' "$gap") ms (max $(calc '%.1f' "$(media_fig accuracy.gap.max)"))" \
    "< 20 ms" "$(verdict "$(calc '%d' "($gap_n > 0 && $gap < 20)")")"

  cpu=$(media_fig idle.cpu_pct)
  cpu_mic=$(media_fig idle.cpu_pct_with_microphone)
  row "$name" "idle CPU, two outputs" \
    "$(calc '%.2f' "$cpu") % of a core, $(calc '%.0f' "$(media_fig idle.wakeups_per_s)") wake-ups/s" \
    "< 1 %" "$(verdict "$(calc '%d' "$cpu < 1")")"
  row "$name" "idle CPU, + cabin microphone" \
    "$(calc '%.2f' "$cpu_mic") % of a core, $(calc '%.0f' "$(media_fig idle.wakeups_per_s_with_microphone)") wake-ups/s" \
    "" ""

  count=$(media_fig memory.announcements)
  growth=$(media_fig memory.rss_growth_kib)
  half=$(media_fig memory.rss_growth_second_half_beyond_cache_kib)
  row "$name" "RSS growth, 10 -> $(calc '%d' "$count")" \
    "$(calc '%+.0f' "$growth") KiB (cache $(calc '%.0f' "$(media_fig memory.cache_kib)") KiB)" "" ""
  row "$name" "RSS beyond cache, 2nd half" "$(calc '%+.0f' "$half") KiB" "< 1 MiB" \
    "$(verdict "$(calc '%d' "($half < 1024)")")"
}
