# shellcheck shell=bash disable=SC2154  # the settings and helpers are tools/bench's
# tools/bench sources this: the section "messages", bench_messages.
#
#   messages  an emergency end to end: `stopcalld run` with two clocked outputs, a control socket
#             and the screens; the demo route's `evacuate` preset sent through the socket
#             (trigger_bench), the emergency input becoming active (trigger_bench) and the driver
#             console's confirmed press over its WebSocket (console_trigger.py), each cutting into
#             a long service message and timed to the first sample of the attention tone rendered
#             on the interior and on the exterior output (the daemon's "sound" log line,
#             CLOCK_MONOTONIC); each emergency is then cancelled. Target: under 200 ms at p95 on
#             both outputs.

bench_messages() {
  local name="emergency"
  local triggers=12
  ((quick)) && triggers=4
  demo_bundle "$work/messages-demo.bundle"
  local trigger
  for trigger in message signal; do
    heading "$name: trigger_bench --trigger $trigger, $triggers emergencies through stopcalld run"
    "$build/daemon/bench/trigger_bench" --stopcalld "$build/daemon/stopcalld" \
      --trigger "$trigger" --routes "$work/messages-demo.bundle" --presses "$triggers" |
      tee "$work/messages-$trigger.txt" || die "trigger_bench --trigger $trigger failed"
    first_sound_row "$name" "$trigger to first sound, both outputs" \
      "$work/messages-$trigger.txt" "$trigger" "$triggers triggers" 200
  done
  heading "$name: console_trigger.py, $triggers presses on the driver console"
  "$root/tools/bench.d/console_trigger.py" "$build/daemon/stopcalld" "$build/daemon/stopcallctl" \
    "$work/messages-demo.bundle" "$triggers" | tee "$work/messages-console.txt" ||
    die "console_trigger.py failed"
  first_sound_row "$name" "console to first sound, both outputs" "$work/messages-console.txt" \
    console "$triggers presses" 200
}
