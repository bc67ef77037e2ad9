#!/usr/bin/env -S python3 -B
"""Pipeline paths that are not regular files, and files over the size bound (issue 16, item 11).
A FIFO named `x.yaml` once hung `runner validate` and kept `runner serve` from listening (and
SIGHUP from reloading); refusing a 100 MB file read it, for 3.7 s and 210 MB. Now a FIFO,
device or socket is refused with RUN1015 without being opened blocking, in a folder as well
(the other pipelines still load), and the size is checked before a byte is read.
Usage: test-fifo-pipelines.py RUNNER"""
import json
import os
import socket
import subprocess

from faults import Work, checks

GOOD = "version: 1\nname: good\nsteps:\n  - name: a\n    run: echo a\n"
work = Work("runner-fifo-", {"good.yaml": GOOD})


def run(*args):
    """Runs the runner; answers (exit status, stdout, stderr), the status None when it was killed after 20 s."""
    result = work.cli(*args, timeout=20)
    return result.returncode, result.stdout, result.stderr


def codes(out):
    try:
        return [d["code"] for f in json.loads(out)["files"] for d in f["diagnostics"]]
    except (ValueError, KeyError):
        return []


def peak_rss_kib(*args):
    """Peak RSS of one runner process, from wait4."""
    process = work.popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss


try:
    folder = work.pipelines
    fifo = os.path.join(folder, "x.yaml")
    os.mkfifo(fifo)
    os.symlink("/dev/zero", os.path.join(folder, "zero.yaml"))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(os.path.join(folder, "socket.yaml"))

    print("validate, plan, apply of a FIFO")
    status, out, err = run("validate", fifo)
    checks.check("validate x.yaml (a FIFO) ends with exit 2", status == 2, f"exit {status} {err[:300]}")
    checks.check("naming the file and what it is",
                 f"error[RUN1015]: {fifo} is a FIFO (named pipe), not a regular file" in err, err[:300])
    for command in ("plan", "apply"):
        status, out, err = run(command, fifo)
        checks.check(f"{command} x.yaml ends with exit 2 and RUN1015", status == 2 and "RUN1015" in err, f"exit {status} {err[:300]}")

    print("validate of a folder holding a FIFO, a device and a socket")
    status, out, err = run("validate", "--json", folder)
    checks.check("ends with exit 2, RUN1015 for each of the three", status == 2 and sorted(codes(out)) == ["RUN1015"] * 3,
                 f"exit {status} {codes(out)} {err[:300]}")
    status, out, err = run("validate", folder)
    checks.check("the regular pipeline beside them is valid", f"ok {folder}/good.yaml" in out, out[:300])

    print("serve with them in its folder")
    with work.server() as server, server.killed_after(30):
        if server.started(checks.check, "the server starts listening"):
            health = server.http("GET", "/healthz", timeout=10).decoded()
            checks.check("the server listens and serves the regular pipeline", health.get("pipelines") == 1,
                         f"{health}")
            line = server.reload()
            checks.check("SIGHUP reloads without blocking", "reloaded 1 pipelines" in line, f"{line!r}")
    with open(work.path("serve.out")) as f:
        log = f.read()
    checks.check("the server reported the FIFO", "x.yaml is a FIFO (named pipe), not a regular file" in log, log[:300])

    print("a 100 MB file is refused by its size")
    big = work.path("big.yaml")
    with open(big, "w") as f:
        f.write(GOOD)
        f.truncate(100 << 20)
    _, baseline = peak_rss_kib("validate", os.path.join(folder, "good.yaml"))
    status, peak = peak_rss_kib("validate", big)
    checks.check("validate exits 2", status == 2, f"exit {status}")
    checks.check("without reading it: peak memory within 8 MiB of validating a small file",
                 peak < baseline + 8 * 1024, f"{peak} KiB against {baseline} KiB")
    status, out, err = run("validate", big)
    checks.check("naming its size", f"{big} is 104857600 bytes, larger than the limit of 16 MiB" in err, err[:300])
    unix.close()
finally:
    work.cleanup()
checks.finish("test-fifo-pipelines")
