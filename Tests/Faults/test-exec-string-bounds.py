#!/usr/bin/env -S python3 -B
"""Strings that reach execve (issue 16, item 13): a `run:` over 128 KiB validated, then failed
at exec with E2BIG (Linux's MAX_ARG_STRLEN, 131,072 bytes with the NUL, per argv or envp
string); an `env:` value alike. Now one byte over is refused when the file is loaded (exit 2,
RUN2040 at the value), and a pipeline at the bound really runs: the bound is exec's own. A
`\0` escape (exec would cut the string there) is refused too (RUN2041).
Usage: test-exec-string-bounds.py RUNNER"""
import json
import os

from faults import Work, checks

LIMIT = 131_071


def pipeline(run_bytes, pipeline_env_bytes, step_env_bytes):
    """A step whose script prints the lengths of the two variables it gets; each string of the given bytes."""
    script = "echo run ok; printf '%s %s\\n' ${#BIG} ${#LOCAL_BIG}; true "
    run = script + "x" * (run_bytes - len(script))
    return f"""version: 1
name: exec-strings
env:
  BIG: {"p" * (pipeline_env_bytes - len("BIG="))}
steps:
  - name: long
    run: {run}
    env:
      LOCAL_BIG: {"s" * (step_env_bytes - len("LOCAL_BIG="))}
"""


with Work("runner-exec-strings-") as work:
    at = work.write("at.yaml", pipeline(LIMIT, LIMIT, LIMIT))
    result = work.cli("validate", at)
    checks.check("run, pipeline env and step env of 131,071 bytes each validate", result.returncode == 0, result.stderr[:300])
    result = work.cli("apply", at)
    checks.check("and the step runs with all three (exit 0)", result.returncode == 0 and "run ok" in result.stdout,
                 f"exit {result.returncode} {result.stdout[-300:]} {result.stderr[:300]}")
    checks.check("receiving both variables whole", f"{LIMIT - 4} {LIMIT - 10}" in result.stdout, result.stdout[-300:])

    for name, sizes, line, column in [("run", (LIMIT + 1, 20, 20), 7, 10), ("pipeline env", (100, LIMIT + 1, 20), 4, 8),
                                      ("step env", (100, 20, LIMIT + 1), 9, 18)]:
        path = work.write("over.yaml", pipeline(*sizes))
        result = work.cli("validate", "--json", path)
        try:
            found = [(d["code"], d["line"], d["column"]) for f in json.loads(result.stdout)["files"] for d in f["diagnostics"]]
        except (ValueError, KeyError):
            found = []
        checks.check(f"a {name} of 131,072 bytes: exit 2 with RUN2040 at {line}:{column}",
                     result.returncode == 2 and found == [("RUN2040", line, column)], f"exit {result.returncode} {found}")
        result = work.cli("apply", path)
        checks.check("and apply refuses it before running anything (exit 2)",
                     result.returncode == 2 and "RUN2040" in result.stderr,
                     f"exit {result.returncode} {result.stderr[:300]}")

    nul = work.write("nul.yaml",
                     'version: 1\nname: nul\nsteps:\n  - name: a\n    run: "echo before\\0; touch ran-after-the-nul"\n')
    result = work.cli("apply", nul)
    checks.check("a run holding a NUL (a \\0 escape): exit 2 with RUN2041, nothing run",
                 result.returncode == 2 and "RUN2041" in result.stderr
                 and not os.path.exists(work.path("ran-after-the-nul")) and "before" not in result.stdout,
                 f"exit {result.returncode} {result.stdout[-200:]} {result.stderr[:300]}")
checks.finish("test-exec-string-bounds")
