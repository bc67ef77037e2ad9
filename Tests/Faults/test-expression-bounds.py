#!/usr/bin/env -S python3 -B
"""Long and deep expressions (issue 16, item 4). A flat chain of ~10,000 `&&` once overflowed
the stack of `runner validate`, and of `runner serve` at start and on SIGHUP. Now: beyond the
bounds (65,536 bytes, 64 levels of parentheses, lists and `!`) `validate` exits 2 with RUN2038
or RUN2039 at the expression; at the bounds a pipeline validates, plans, applies, and is
served, launched, reloaded and resumed by a server that stays up.
Usage: test-expression-bounds.py RUNNER"""
import json
import os
import shutil

from faults import Work, checks

CONDITION_LINE = 8  # the line of `if:` in pipeline() below; the expression starts at column 9


def pipeline(name, condition, other="params.a", extra=""):
    return f"""version: 1
name: {name}
params:
  a: {{type: bool, default: true}}
  apps: {{type: list, items: {{type: string}}, default: [web]}}
{extra}steps:
  - name: yes_step
    if: {condition}
    run: echo ran
  - name: no_step
    if: {other}
    run: echo ran
  - name: each
    for_each: {"(" * 64}params.apps{")" * 64}
    run: echo "$ITEM"
"""


def longest(op, filler, last):
    """`filler op filler ... op last`, exactly 65,536 bytes: the longest expression allowed."""
    n = (65536 - len(last)) // (len(filler) + len(op))
    text = (filler + op) * n + last
    return text.replace(op, " " + op, 65536 - len(text))


def diagnostics(result):
    try:
        return [d for f in json.loads(result.stdout)["files"] for d in f["diagnostics"]]
    except (ValueError, KeyError):
        return []


at_bound_and = longest("&&", "true", "params.a")
at_bound_or = longest("||", "null", "!params.a")
assert len(at_bound_and) == len(at_bound_or) == 65536
beyond = {
    "and-10000": (" && ".join(["params.a"] * 10_000), "RUN2038", 9),
    "or-10000": (" || ".join(["params.a"] * 10_000), "RUN2038", 9),
    "and-100000": ("&&".join(["params.a"] * 100_000), "RUN2038", 9),
    "or-100000": ("||".join(["params.a"] * 100_000), "RUN2038", 9),
    "mixed-10000": ("".join(("&&" if i % 2 else "||") + "(params.a)" for i in range(10_000))[2:], "RUN2038", 9),
    "parens-10000": ("(" * 10_000 + "params.a" + ")" * 10_000, "RUN2039", 9 + 64),
    "bangs-10000": ('"' + "!" * 10_000 + 'params.a"', "RUN2039", 10 + 64),
    "mixed-deep-4000": ("(params.a || " * 4_000 + "true" + ")" * 4_000, "RUN2039", 9 + 64 * 13),
}
with Work("runner-expr-bounds-") as work:
    print("validate: beyond the bounds")
    for name, (condition, code, column) in beyond.items():
        path = work.write(f"{name}.yaml", pipeline(name, condition))
        result = work.cli("validate", "--json", path)
        found = [(d["code"], d.get("line"), d.get("column")) for d in diagnostics(result)]
        checks.check(f"{name}: exit 2 with {code} at {CONDITION_LINE}:{column}",
                     result.returncode == 2 and found == [(code, CONDITION_LINE, column)],
                     f"exit {result.returncode}, {found}, {str(result.stderr)[:300]}")

    print("validate, plan, apply: at the bounds")
    bounds = work.write("bounds.yaml", pipeline("bounds", at_bound_and, at_bound_or,
                                                extra=f'concurrency:\n  key: "{"!" * 63}(params.a)"\n'))
    result = work.cli("validate", bounds)
    checks.check("a pipeline at both bounds validates", result.returncode == 0, f"{result.returncode} {result.stderr[:300]}")
    result = work.cli("plan", bounds)
    checks.check("and plans", result.returncode == 0, f"{result.returncode} {result.stderr[:300]}")
    result = work.cli("apply", bounds)
    checks.check("and applies (exit 0)", result.returncode == 0, f"{result.returncode} {result.stderr[:300]}")
    listed = work.runs()
    shown = work.show(listed[0]["id"]) if listed else {"steps": []}
    statuses = {s["name"]: s["status"] for s in shown["steps"]}
    checks.check("its `if` at the bound ran one step and skipped the other, for_each made its instance",
                 statuses == {"yes_step": "succeeded", "no_step": "skipped", "each[web]": "succeeded"}, f"{statuses}")

    print("serve: loads, launches, reloads and restarts with them")
    folder = work.path("pipelines")
    os.mkdir(folder)
    shutil.copy(bounds, folder)
    for name in ("and-10000", "or-100000", "parens-10000"):
        shutil.copy(work.path(f"{name}.yaml"), folder)
    with work.server(folder, apart="serve") as server, server.killed_after(40):
        if server.started(checks.check, "the server starts with them in its folder"):
            health = server.http("GET", "/healthz", timeout=10).decoded()
            checks.check("the server listens and serves the one pipeline that loads", health.get("pipelines") == 1,
                         f"{health}")
            server.token = server.new_token("operator", "expr")
            launched = server.http("POST", "/api/v1/pipelines/bounds/runs", {"params": {}}, timeout=10)
            run_id = launched.decoded()["run_id"]
            body = server.wait(run_id, seconds=20) or {"status": None, "steps": []}
            status, steps = body["status"], {s["name"]: s["status"] for s in body["steps"]}
            checks.check("a launched run at the bounds succeeds, its `if`s decided",
                         status == "succeeded" and steps.get("no_step") == "skipped", f"{status} {steps}")
            line = server.reload()
            checks.check("SIGHUP reloads and the server stays up",
                         "reloaded 1 pipelines" in line and server.process.poll() is None, f"{line!r}")
            server.stop(20)
            if server.started(checks.check, "it starts again over the stored run"):
                health = server.http("GET", "/healthz", timeout=10).decoded()
                checks.check("it starts again over the stored run", health.get("status") == "ok", f"{health}")
checks.finish("test-expression-bounds")
