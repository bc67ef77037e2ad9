#!/usr/bin/env -S python3 -B
"""`workdir` confined by where it really leads (issue 16, item 12): a symlink in the pipeline's
folder that points out of it is refused by `validate` (RUN2042), and again when the step
starts (the folder may have changed since, or an earlier step made the link); a missing
workdir fails the step with a message naming it, not "cannot start /bin/sh".

Usage: Tests/Faults/test-inputs-workdir.py RUNNER
"""
import json
import os

from faults import Work, check, checks


def cli_checks(work):
    p, outside = work.pipelines, work.path("outside")
    os.symlink(outside, f"{p}/out")
    os.symlink("sub", f"{p}/in")
    work.write("pipelines/escape.yaml",
               "version: 1\nname: escape\nsteps:\n  - {name: a, run: touch escaped, workdir: out}\n")
    r = work.cli("validate", f"{p}/escape.yaml")
    out = r.stdout + r.stderr
    check("validate: a workdir that is a symlink out of the folder: exit 2, RUN2042 at its line, the target named",
          r.returncode == 2 and "RUN2042" in out and "escape.yaml:4:" in out and outside in out, (r.returncode, out[-400:]))
    r = work.cli("apply", f"{p}/escape.yaml")
    check("apply refuses it too (exit 2), nothing written outside",
          r.returncode == 2 and not os.path.exists(f"{outside}/escaped"), (r.returncode, r.stderr[-300:]))
    work.write("pipelines/inside.yaml",
               "version: 1\nname: inside\nsteps:\n  - {name: a, run: pwd -P > seen, workdir: in}\n")
    r = work.cli("apply", f"{p}/inside.yaml")
    check("a symlink that stays inside is followed", r.returncode == 0 and os.path.exists(f"{p}/sub/seen"), (r.returncode, r.stderr[-300:]))

    work.write("pipelines/missing.yaml",
               "version: 1\nname: missing\nsteps:\n  - {name: build, run: echo hi, workdir: build/out}\n")
    r = work.cli("apply", f"{p}/missing.yaml", "--json")
    step = next(iter(json.loads(r.stdout).get("steps", [])), {}) if r.stdout.startswith("{") else {}
    message = step.get("error_message") or step.get("message") or ""
    check("a missing workdir: the step fails naming the directory, not /bin/sh",
          r.returncode == 1 and "workdir 'build/out' does not exist" in message and f"{p}/build/out" in message
          and "/bin/sh" not in message, (r.returncode, step))

    work.write("pipelines/made.yaml", "version: 1\nname: made\nsteps:\n"
          f"  - {{name: link, run: \"ln -s '{outside}' later\"}}\n"
          "  - {name: write, run: touch escaped, workdir: later, needs: [link]}\n")
    r = work.cli("apply", f"{p}/made.yaml", "--json")
    steps = {s["name"]: s for s in json.loads(r.stdout).get("steps", [])} if r.stdout.startswith("{") else {}
    message = steps.get("write", {}).get("error_message") or ""
    check("a symlink out made by an earlier step (validate saw nothing): refused at launch, RUN2042, nothing written",
          r.returncode == 1 and "RUN2042" in message and "workdir 'later'" in message
          and not os.path.exists(f"{outside}/escaped"), (r.returncode, steps.get("write")))


def serve_checks(work):
    p, outside = work.path("s-pipelines"), work.path("outside")
    os.makedirs(f"{p}/sub")
    os.symlink("sub", f"{p}/link")
    work.write("s-pipelines/swap.yaml",
               "version: 1\nname: swap\nsteps:\n  - {name: a, run: touch written, workdir: link}\n")
    with work.server(p, apart="s") as server:
        server.token = server.new_token("operator", "faults")
        server.start()
        # Loaded while the link pointed inside; then it is pointed out of the folder.
        os.remove(f"{p}/link")
        os.symlink(outside, f"{p}/link")
        run_id = server.http("POST", "/api/v1/pipelines/swap/runs", raw=b"{}").decoded()["run_id"]
        run = server.wait(run_id, seconds=20) or {}
        step = next(iter(run.get("steps", [])), {})
        check("serve: the link re-pointed out of the folder after loading: the step is refused at launch (RUN2042)",
              run.get("status") == "failed" and "RUN2042" in (step.get("error_message") or "")
              and not os.path.exists(f"{outside}/written"), (run.get("status"), step))


def main():
    with Work("faults-workdir.") as work:
        print("workdir confined by its resolved path; a missing one named")
        for d in ("pipelines/sub", "outside"):
            os.makedirs(work.path(d))
        cli_checks(work)
        serve_checks(work)
    checks.finish("test-inputs-workdir")


if __name__ == "__main__":
    main()
