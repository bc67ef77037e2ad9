#!/usr/bin/env -S python3 -B
"""Issue 16, item 1: a short lock of state.db by another process must not brick `runner serve`.

A run of five 1 s steps is in flight and clients read it every 0.5 s while another process
holds the database (BEGIN EXCLUSIVE) for 10 s. While it is held, reads and launches answer
503 with a code (never 404 or 500) and /healthz says the store is unhealthy; afterwards
everything answers again, the run in flight finishes, each of its steps ran once, and a
restart of the server runs none of them again."""
import threading
import time

from faults import FaultWork, Serve, chain, check, checks, hold_database

work = FaultWork("store-lock", {"five.yaml": chain("five", 5, 1)})
try:
    server = Serve(work)
    status, accepted = server.request("POST", "/api/v1/pipelines/five/runs", {})
    check("launch before the lock: 202", status == 202, f"{status} {accepted}")
    run_id = accepted["run_id"]
    seen = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            seen.append(server.request("GET", f"/api/v1/runs/{run_id}", timeout=30)[0])
            time.sleep(0.5)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    time.sleep(1.2)
    lock = hold_database(work.database, 10)
    launched = []
    launcher = threading.Thread(target=lambda: launched.append(server.request("POST", "/api/v1/pipelines/five/runs", {}, timeout=30)))
    time.sleep(0.5)
    launcher.start()
    time.sleep(6)
    during_health = server.request("GET", "/healthz", timeout=30)
    launcher.join()
    during_launch = launched[0]
    lock.wait()
    time.sleep(0.5)
    stop.set()
    for t in readers:
        t.join()
    check("reads during the lock: 200 or 503, never 404 or 500", all(s in (200, 503) for s in seen),
          f"statuses seen: {sorted(set(seen))}")
    check("/healthz during the lock: 503, the store unhealthy",
          during_health[0] == 503 and isinstance(during_health[1], dict) and during_health[1].get("store") != "ok",
          f"{during_health}")
    check("a launch during the lock: 503 with a code",
          during_launch[0] == 503 and isinstance(during_launch[1], dict) and during_launch[1].get("code") == "RUN4006",
          f"{during_launch}")
    status, body = server.request("GET", "/healthz")
    check("/healthz after the lock: 200 ok", status == 200 and body.get("status") == "ok", f"{status} {body}")
    status, again = server.request("POST", "/api/v1/pipelines/five/runs", {})
    check("a launch after the lock: 202", status == 202, f"{status} {again}")
    status, body = server.request("GET", f"/api/v1/runs/{run_id}")
    check("the run in flight is found after the lock", status == 200, f"{status} {body}")
    final = server.wait(run_id, seconds=60)
    check("the run in flight finishes succeeded", final and final["status"] == "succeeded", f"{final and final['status']}")
    if during_launch[0] == 202:
        server.wait(during_launch[1]["run_id"], seconds=60)
    if status == 202 or again:
        server.wait(again["run_id"], seconds=60)
    server.stop()
    counts_before = work.counts()
    server = Serve(work)
    time.sleep(3)
    server.stop()
    counts = work.counts()
    runs = 2 + (1 if during_launch[0] == 202 else 0)
    check(f"each step ran once per run ({runs} runs), and none again after a restart",
          counts == {f"s{i}": runs for i in range(1, 6)} and counts == counts_before, f"{counts} (before restart {counts_before})")
finally:
    work.cleanup()
checks.finish("test-store-lock")
