#!/usr/bin/env bash
# The runner's checks that depend on the time of day (issue 16, item 16), run at the instants
# that broke them: 00:30 UTC (before a 03:00 firing is due) and 23:59:40 UTC on a month's
# (and the year's) last day, so that midnight, a month and a year pass while they run.
# clock-at.sh moves the wall clock of the runner and of the checks alike (libfaketime).
#   - a daily schedule last fired three firings ago fires once at start, missed 1, for the
#     last 03:00 due, its time zone named as declared (UTC) or defaulted;
#   - a deferred retry (`at: next_day_utc`, `next_hour_utc`, a cron) waits until the right
#     instant; across midnight the run wakes at 00:00:00 and finishes;
#   - a schedule at 00:00 fires when the server's clock passes midnight.
# Usage: Tests/Faults/test-clock-instants.sh RUNNER
set -uo pipefail
RUNNER=$(cd "$(dirname "${1:?usage: test-clock-instants.sh RUNNER}")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
status=0
for instant in "2026-12-05 00:30:00" "2026-12-31 23:59:40"; do
  echo "at $instant UTC"
  PYTHONPATH="$HERE" "$HERE/clock-at.sh" "$instant" python3 -B - "$RUNNER" "$instant" <<'PYTHON' || status=1
import calendar, json, os, signal, sqlite3, subprocess, sys, time

from faults import Work, check, checks, communicate, wait_until

INSTANT = sys.argv[2]


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def start(*args):
    return work.popen(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def deferred(name, at):
    """A pipeline whose step fails once with a deferred retry, then succeeds."""
    work.write(f"{name}.yaml", f"""version: 1
name: {name}
steps:
  - name: fetch
    run: 'if [ -e {name}.done ]; then exit 0; fi; touch {name}.done; exit 76'
    errors: [{{exit_codes: [76], code: QUOTA, retry: {{at: {json.dumps(at)}}}}}]
""")
    return start("apply", work.path(f"{name}.yaml"), "--json")


def waiting_run(name):
    def find():
        runs = [x for x in work.runs() if x.get("pipeline") == name and x.get("status") == "waiting"]
        return work.show(runs[0]["id"]) if runs else None
    return wait_until(find, 15) or {}


with Work("faults-clock.") as work:
    now = time.time()
    next_midnight = (int(now) // 86400 + 1) * 86400
    next_hour = (int(now) // 3600 + 1) * 3600
    year, month_now = time.gmtime(now)[:2]
    first_of_next_month = calendar.timegm((year + month_now // 12, month_now % 12 + 1, 1, 0, 0, 0, 0, 0, 0))
    crosses_midnight = next_midnight - now < 60
    work.write("p/nightly.yaml", """version: 1
name: nightly
triggers:
  schedule:
    - {cron: "0 3 * * *", timezone: UTC}
    - {cron: "0 0 * * *"}
steps:
  - {name: work, run: "true"}
""")
    # The state database is made first: processes that all make a new one at once race
    # ("table runs already exists", a store issue of its own).
    work.cli("runs", "list")
    day = deferred("daily", "next_day_utc")
    hour = deferred("hourly", "next_hour_utc")
    month = deferred("monthly", "0 0 1 * *")

    # --- the schedules: first seen now; then "last fired" three 03:00 firings ago
    serve = start("serve", "--pipelines", work.path("p"), "--listen", "127.0.0.1:0")
    line = serve.stdout.readline()
    check("runner serve started", "listening on" in line, line)
    db = sqlite3.connect(work.path("home", "state.db"))
    wait_until(lambda: db.execute("SELECT count(*) FROM schedule_state").fetchone()[0] == 2, 10)
    last_due = (int(time.time()) - 3 * 3600) // 86400 * 86400 + 3 * 3600
    os.killpg(serve.pid, signal.SIGKILL)
    serve.wait()
    db.execute("UPDATE schedule_state SET last_fired_at = ? WHERE entry = 0", (last_due - 2 * 86400,))
    db.commit()
    serve = start("serve", "--pipelines", work.path("p"), "--listen", "127.0.0.1:0")
    serve.stdout.readline()

    def schedule_runs():
        return [work.show(x["id"]) for x in work.runs("--pipeline", "nightly")]

    def fired_by(schedule):
        return [r for r in schedule_runs() if r.get("trigger_detail", {}).get("schedule") == schedule]

    fired = wait_until(lambda: fired_by("0 3 * * *"), 10) or []
    detail = fired[0].get("trigger_detail", {}) if fired else {}
    check(f"0 3 * * * last fired three firings ago: fires once at start, missed 1, for {iso(last_due)}Z",
          len(fired) == 1 and detail.get("missed") == "1" and detail.get("fire_time") == iso(last_due) + "Z", fired and detail)
    check("its time zone as declared: UTC (not GMT)", detail.get("timezone") == "UTC", detail)

    # --- deferred retries: each waits until its instant
    for name, wake in (("daily", next_midnight), ("hourly", next_hour), ("monthly", first_of_next_month)):
        run = waiting_run(name)
        check(f"{name}: the deferred retry waits until {iso(wake)}Z", (run.get("wake_at") or "").startswith(iso(wake)),
              {k: run.get(k) for k in ("status", "wake_at")})
    if crosses_midnight:
        out, _ = communicate(day, 60)
        final = json.loads(out) if out.startswith("{") else {}
        second = [a for a in final.get("attempts", []) if a.get("attempt") == 2 or a.get("serial") == 2]
        check("daily: at midnight it wakes and the retry succeeds (a new day, month and year)",
              day.returncode == 0 and final.get("status") == "succeeded" and second
              and second[0].get("started_at", "") >= iso(next_midnight), (day.returncode, final.get("status"), second))
        midnight_run = wait_until(lambda: fired_by("0 0 * * *"), 10)
        detail = midnight_run[0].get("trigger_detail", {}) if midnight_run else {}
        check("0 0 * * * fires when the server's clock passes midnight; its time zone defaults to UTC",
              detail.get("fire_time") == iso(next_midnight) + "Z" and detail.get("timezone") == "UTC", detail)
        for name, proc in (("hourly", hour), ("monthly", month)):
            if next_hour == next_midnight or name == "monthly" and first_of_next_month == next_midnight:
                _, err = communicate(proc, 30)
                check(f"{name}: it wakes at midnight too and succeeds", proc.returncode == 0, (proc.returncode, err[-300:]))
    for name, proc in (("daily", day), ("hourly", hour), ("monthly", month)):
        if proc.poll() is None:
            run = waiting_run(name)
            if run.get("id"):
                work.cli("runs", "cancel", run["id"])
            communicate(proc, 20)
    db.close()
checks.finish(f"  at {INSTANT}")
PYTHON
done
[ $status = 0 ] && echo "test-clock-instants: all passed" || echo "test-clock-instants: FAILED"
exit $status
