# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "assist", bench_assist.
#
#   assist   ramp assist end to end (trigger_bench --trigger ramp): `stopcalld run` with two clocked outputs and a
#            control socket; the ramp-assist button pressed through the socket, timed to the first
#            sample of "ramp deploying" rendered on the interior and on the exterior output (the
#            daemon's "sound" log line, CLOCK_MONOTONIC). Target: under 300 ms at p95.

bench_assist() {
  local name="ramp assist"
  local presses=12
  ((quick)) && presses=4
  "$build/routes/stopcall-routes" import "$root/routes/demo/shenzhen-101" \
    --extra "$root/routes/demo/shenzhen-101-extra" -o "$work/assist-demo.bundle" >/dev/null ||
    die "demo import failed"
  heading "$name: trigger_bench, $presses presses through the control socket of stopcalld run"
  "$build/daemon/bench/trigger_bench" --stopcalld "$build/daemon/stopcalld" --trigger ramp \
    --routes "$work/assist-demo.bundle" --presses "$presses" | tee "$work/assist.txt" ||
    die "trigger_bench failed"
  local p95 failures
  p95=$(sed -n 's/.*ramp_first_sound_p95_ms=\([0-9.]*\).*/\1/p' "$work/assist.txt")
  failures=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' "$work/assist.txt")
  [[ -n "$p95" ]] || die "trigger_bench gave no figure"
  row "$name" "press to first sound, both outputs" "p95 $p95 ms ($presses presses)" "< 300 ms" \
    "$(verdict "$(calc '%d' "($failures == 0 && $p95 < 300)")")"
}
