#!/usr/bin/env bash
# clock-at.sh INSTANT CMD [ARG]...: runs CMD with the wall clock starting at INSTANT (UTC,
# `date -d` syntax: "2026-12-31 23:59:40"), for CMD and every process it starts, all with one
# clock; monotonic clocks, sleeps and timers stay real. libfaketime (Debian `faketime`) moves
# the wall clock; faketime-wallclock.c, preloaded before it, keeps it from shifting deadlines
# on monotonic clocks (see that file). The offset form (FAKETIME=+N, or -N for an instant past)
# keeps every process on one clock, where "@INSTANT" restarts it in each new process.
set -euo pipefail
instant=${1:?usage: clock-at.sh INSTANT CMD [ARG]...}
shift
here=$(cd "$(dirname "$0")" && pwd)
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -r "$lib" ] || { echo "clock-at.sh: $lib is missing (Debian package libfaketime)" >&2; exit 70; }
cache=${TMPDIR:-/tmp}/runner-faketime-wallclock-$(id -u)
mkdir -p "$cache"
shim=$cache/wallclock-$(cksum < "$here/faketime-wallclock.c" | cut -d' ' -f1).so
if [ ! -e "$shim" ]; then
  cc -O2 -shared -fPIC -o "$shim.$$" "$here/faketime-wallclock.c" -ldl
  mv "$shim.$$" "$shim"
fi
target=$(date -u -d "$instant" +%s)
export FAKETIME="$(printf %+d $(( target - $(date -u +%s) )))" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$shim:$lib"
# Started from a process that has libfaketime loaded already, CMD inherits its shared clock
# (FAKETIME_SHARED) instead of making one in its constructor (which sets that variable): a
# debug runner (libswiftCore loaded dynamically) started that way saw no arguments (observed).
exec /bin/sh -c 'exec "$@"' sh "$@"
