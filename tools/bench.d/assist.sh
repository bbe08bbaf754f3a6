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
  demo_bundle "$work/assist-demo.bundle"
  heading "$name: trigger_bench, $presses presses through the control socket of stopcalld run"
  "$build/daemon/bench/trigger_bench" --stopcalld "$build/daemon/stopcalld" --trigger ramp \
    --routes "$work/assist-demo.bundle" --presses "$presses" | tee "$work/assist.txt" ||
    die "trigger_bench failed"
  first_sound_row "$name" "press to first sound, both outputs" "$work/assist.txt" ramp \
    "$presses presses" 300
}
