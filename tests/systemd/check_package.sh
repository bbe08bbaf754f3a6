#!/usr/bin/env bash
# The Debian package: cpack builds it from this build tree, and it must hold what a bus needs —
# the binaries, the unit and its sysusers/tmpfiles snippets, the bus configuration as a conffile,
# the pages, the demo route, the documentation — with the maintainer scripts that create the user.
# Usage: check_package.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$build" && cpack -G DEB -B "$work" >/dev/null)
deb=$(ls "$work"/stopcall_*.deb)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg -c "$deb" | awk '{print $6}' >"$work/files"
missing=0
for f in ./usr/bin/stopcalld ./usr/bin/stopcallctl ./usr/bin/stopcall-routes \
  ./usr/lib/systemd/system/stopcall.service ./usr/lib/sysusers.d/stopcall.conf \
  ./usr/lib/tmpfiles.d/stopcall.conf ./etc/stopcall/stopcall.toml \
  ./usr/share/stopcall/hmi/web/index.html ./usr/share/stopcall/hmi/web/driver.html \
  ./usr/share/stopcall/demo/shenzhen-101/stops.txt ./usr/share/doc/stopcall/README.md \
  ./usr/share/doc/stopcall/stopcall.example.toml ./usr/share/doc/stopcall/CONTROL.md; do
  grep -qxF "$f" "$work/files" || { echo "missing from the package: $f"; missing=1; }
done
# The simulator is for tests and benches (sim/README.md): no bus runs it.
! grep -qxF ./usr/bin/stopcall-scenario "$work/files" ||
  { echo "the package carries the simulator (stopcall-scenario)"; missing=1; }
dpkg-deb -e "$deb" "$work/control"
grep -qxF /etc/stopcall/stopcall.toml "$work/control/conffiles" ||
  { echo "the bus configuration is not a conffile"; missing=1; }
grep -q systemd-sysusers "$work/control/postinst" || { echo "postinst creates no user"; missing=1; }
grep -q '^Depends:.*libgps' "$work/control/control" ||
  { echo "Depends lacks the shared libraries"; missing=1; }
# The installed unit points at the installed daemon.
grep -q '^ExecStart=/usr/bin/stopcalld ' <(dpkg-deb --fsys-tarfile "$deb" |
  tar -xO ./usr/lib/systemd/system/stopcall.service) || { echo "unit ExecStart"; missing=1; }
exit $missing
