#!/usr/bin/env bash
# systemd-analyze checks of the shipped unit: `verify` must pass, and the offline `security`
# exposure score must stay at or below the limit (lower is better; 10 is fully exposed).
# The depot's stopcall-fleet.service the same way when its binary is given.
# Usage: check_units.sh SOURCE_DIR STOPCALLD_BINARY [MAX_EXPOSURE [STOPCALL_FLEET_BINARY]]
set -euo pipefail
src=$1 stopcalld=$2 max=${3:-2.0} fleet=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify checks that ExecStart's binary exists: point it at the one just built.
sed "s#/usr/bin/stopcalld#$stopcalld#" "$src/systemd/stopcall.service" >"$work/stopcall.service"
systemd-analyze verify "$work/stopcall.service"
score=$(systemd-analyze security --offline=true "$work/stopcall.service" 2>/dev/null |
  sed -n 's/.*Overall exposure level for stopcall.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security exposure: $score (limit $max)"
awk -v s="$score" -v m="$max" 'BEGIN { exit !(s != "" && s <= m) }'
if [ -n "$fleet" ]; then
  sed "s#/usr/bin/stopcall-fleet#$fleet#" "$src/systemd/stopcall-fleet.service" \
    >"$work/stopcall-fleet.service"
  systemd-analyze verify "$work/stopcall-fleet.service"
  score=$(systemd-analyze security --offline=true "$work/stopcall-fleet.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for stopcall-fleet.service: \([0-9.]*\).*/\1/p')
  echo "stopcall-fleet.service exposure: $score (limit $max)"
  awk -v s="$score" -v m="$max" 'BEGIN { exit !(s != "" && s <= m) }'
fi
