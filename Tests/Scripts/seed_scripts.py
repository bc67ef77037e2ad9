#!/usr/bin/env python3
"""Runs the example pipelines' steps as the runner runs them, before the executor exists:
step definitions (run text, shell, workdir, env) come from `runner plan --json`, and each
step gets PARAM_*, STEP_<STEP>_<OUTPUT>, ITEM, RUNNER_* and the RUNNER_OUTPUT/PROGRESS
files. Each scenario asserts the real effects: files published, rows loaded, zips that
restore, apps promoted, and the failure paths of the seeds.

Usage: Tests/Scripts/seed_scripts.py RUNNER_BINARY
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import uuid
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIPELINES = os.path.join(ROOT, "pipelines")
RUNNER = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "runner")
CHECKS = {"passed": 0}


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    CHECKS["passed"] += 1
    print(f"  ok  {message}")


def env_name(name):
    out, previous = "", ""
    for ch in name:
        if ch.isupper() and (previous.islower() or previous.isdigit()):
            out += "_"
        out += "_" if ch == "-" else ch.upper()
        previous = ch
    return out


def env_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(env_value(v) for v in value)
    return str(value)


class Run:
    """One run of a pipeline: steps are run on demand, in the order a scenario gives."""

    def __init__(self, pipeline, params, demo_root, extra_env=None):
        args = [RUNNER, "plan", os.path.join(PIPELINES, pipeline), "--json"]
        for key, value in params.items():
            args += ["-p", f"{key}={value}"]
        result = subprocess.run(args, capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError(f"runner plan failed: {result.stderr}")
        plan = json.loads(result.stdout)
        self.steps = {s["name"]: s for s in plan["main"] + plan["rollback"] + plan["finally"]}
        self.params = {p["name"]: p.get("value") for p in plan["params"]}
        self.outputs = {}
        self.run_id = "run-" + uuid.uuid4().hex[:8]
        self.demo_root = demo_root
        self.extra_env = extra_env or {}

    def environment(self, step, item, attempt, output_file, progress_file, env):
        e = dict(os.environ)
        e.update(step["env"])
        for name, value in self.params.items():
            text = env_value(value)
            if text is not None:
                e["PARAM_" + env_name(name)] = text
        for producer, outputs in self.outputs.items():
            for key, value in outputs.items():
                e[f"STEP_{env_name(producer)}_{env_name(key)}"] = value
        e.update({"RUNNER_RUN_ID": self.run_id, "RUNNER_STEP": step["name"] + (f"[{item}]" if item else ""),
                  "RUNNER_ATTEMPT": str(attempt), "RUNNER_TRIGGER": "cli", "RUNNER_OUTPUT": output_file,
                  "RUNNER_PROGRESS": progress_file, "DEMO_ROOT": self.demo_root})
        if item is not None:
            e["ITEM"] = item
        e.update(self.extra_env)
        e.update(env or {})
        return e

    def step(self, name, item=None, attempt=1, env=None, expect=0):
        step = self.steps[name]
        with tempfile.TemporaryDirectory() as scratch:
            output_file, progress_file = os.path.join(scratch, "output"), os.path.join(scratch, "progress")
            open(output_file, "w").close()
            open(progress_file, "w").close()
            cwd = os.path.normpath(os.path.join(PIPELINES, step.get("workdir") or "."))
            proc = subprocess.run(step["shell"] + [step["run"]], cwd=cwd, capture_output=True, text=True,
                                  env=self.environment(step, item, attempt, output_file, progress_file, env), timeout=300)
            label = name + (f"[{item}]" if item else "")
            if proc.returncode != expect:
                raise AssertionError(f"{label}: exit {proc.returncode}, expected {expect}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
            with open(output_file, encoding="utf-8") as f:
                outputs = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
            with open(progress_file, encoding="utf-8") as f:
                progress = [int(line.split()[0]) for line in f if line.strip()]
        if expect == 0 and item is None:
            self.outputs[name] = outputs
        proc.outputs, proc.progress = outputs, progress
        return proc


def docs_scenarios(demo):
    print("docs-publish (seed 000)")
    first = Run("docs-publish.yaml", {"targetRef": "main"}, demo)
    for name in ("docs_link_check", "quartz_build", "cdk_deploy", "switch"):
        first.step(name)
    check(first.outputs["cdk_deploy"]["changed"] == "true", "first publish is a change")
    first.step("invalidation")
    site = os.path.join(demo, "docs-publish", "site")
    check(os.path.isfile(os.path.join(site, "current", "docs", "index.html")), "site is live at current/docs/index.html")
    check(os.path.isfile(os.path.join(site, "current", "openapi", "index.html")), "schemas page is live")
    check(os.path.isfile(os.path.join(site, "cdn-cache", "docs", "index.html")), "CDN cache primed")
    first.step("cleanup")
    live_first = os.readlink(os.path.join(site, "current"))

    second = Run("docs-publish.yaml", {"targetRef": "main"}, demo)
    for name in ("docs_link_check", "quartz_build", "cdk_deploy"):
        second.step(name)
    check(second.outputs["cdk_deploy"]["changed"] == "false", "republishing the same content is no change")
    check(second.outputs["cdk_deploy"]["previous"] == os.path.basename(live_first), "deploy names the live release as previous")
    second.step("switch")
    failed = second.step("invalidation", env={"INJECT_FAIL": "invalidation"}, expect=1)
    check("503" in failed.stderr, "injected invalidation failure reports the CDN error")
    second.step("rollback_prepare")
    check(second.outputs["rollback_prepare"]["previous"] == os.path.basename(live_first), "rollback_prepare finds the previous release")
    second.step("rollback_switch")
    check(os.readlink(os.path.join(site, "current")) == live_first, "previous release is live again")
    verify = second.step("rollback_verify")
    check("/docs/: 200 OK" in verify.stdout and "/openapi/: 200 OK" in verify.stdout, "rollback_verify reaches /docs and /openapi over HTTP")

    broken_docs = tempfile.mkdtemp(dir=demo)
    with open(os.path.join(broken_docs, "guide.md"), "w") as f:
        f.write("# Guide\n\nSee [missing](nope.md) and [anchor](#no-such-heading).\n")
    third = Run("docs-publish.yaml", {"targetRef": "main"}, demo, extra_env={"DOCS_SOURCE": broken_docs})
    result = third.step("docs_link_check", expect=1)
    check("broken link 'nope.md'" in result.stderr and "broken anchor '#no-such-heading'" in result.stderr,
          "link check reports each broken link with file:line")


def ingestion_scenarios(demo):
    print("ingestion (seed 002)")
    params = {"trigger_mode": "manual", "run_kind": "appearance_supplement", "target_types": "official,appearance",
              "from_published_at": "2026-01-10T00:00:00+09:00"}
    run = Run("ingestion.yaml", params, demo)
    run.step("plan_window")
    check(run.outputs["plan_window"]["since"] == "2026-01-09T15:00:00Z", "window start normalised to UTC by the runner")
    fetched = [run.step("fetch", item=t) for t in ("official", "appearance")]
    check(all(p.progress and p.progress[-1] == 100 for p in fetched), "fetch reports progress up to 100")
    run.step("load")
    inserted = int(run.outputs["load"]["inserted"])
    check(inserted > 0, f"load inserted {inserted} videos")
    run.step("supplement")
    check(int(run.outputs["supplement"]["matched"]) > 0, "supplement counted pattern matches (草|w|くさ|kusa)")
    run.step("summary")
    again = Run("ingestion.yaml", params, demo)
    again.step("plan_window")
    for t in ("official", "appearance"):
        again.step("fetch", item=t)
    again.step("load")
    check(again.outputs["load"]["inserted"] == "0" and int(again.outputs["load"]["unchanged"]) == inserted, "re-running inserts nothing (idempotent load)")
    db = sqlite3.connect(os.path.join(demo, "ingestion", "ingestion.db"))
    check(db.execute("SELECT count(*) FROM videos").fetchone()[0] == inserted, "database holds each video once")
    db.close()
    for mode, code in (("rate_limit", 75), ("quota", 76), ("timeout", 77), ("invalid", 78)):
        failing = Run("ingestion.yaml", params, demo)
        failing.step("plan_window")
        result = failing.step("fetch", item="official", env={"UPSTREAM_FAIL": mode}, expect=code)
        check(result.returncode == code, f"UPSTREAM_FAIL={mode} exits {code}")
    flaky = Run("ingestion.yaml", params, demo)
    flaky.step("plan_window")
    env = {"UPSTREAM_FAIL": "rate_limit", "UPSTREAM_FAIL_TIMES": "2"}
    flaky.step("fetch", item="official", attempt=1, env=env, expect=75)
    flaky.step("fetch", item="official", attempt=2, env=env, expect=75)
    flaky.step("fetch", item="official", attempt=3, env=env)
    check(True, "UPSTREAM_FAIL_TIMES=2: attempts 1-2 rate limited, attempt 3 succeeds")
    partial = Run("ingestion.yaml", params, demo)
    partial.step("plan_window")
    env = {"UPSTREAM_FAIL": "invalid", "UPSTREAM_FAIL_TARGET": "appearance"}
    partial.step("fetch", item="official", env=env)
    invalid = partial.step("fetch", item="appearance", env=env, expect=78)
    check("violates the contract" in invalid.stderr, "UPSTREAM_FAIL_TARGET fails one instance only, with the contract error")


def belayer_scenarios(demo):
    print("backup and restore (seed 003)")
    backup = Run("backup.yaml", {"dirPath": "dump1"}, demo)
    backup.step("prepare_source")
    snapshot = backup.step("snapshot")
    check(len(snapshot.progress) > 3 and snapshot.progress == sorted(snapshot.progress), "snapshot progress climbs page batch by page batch")
    backup.step("archive")
    zip_rel = backup.outputs["archive"]["zipFilePath"]
    check(re.fullmatch(r"dump1/run-[0-9a-f]+/backup-run-[0-9a-f]+\.zip", zip_rel) is not None, f"zip path is dirPath/<job>/backup-<job>.zip ({zip_rel})")
    verify = backup.step("verify")
    check(verify.progress[-1] == 100 and re.fullmatch(r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\]finish:success", backup.outputs["verify"]["output"]) is not None,
          "verify ends at 100% with the seed's output line")
    zip_abs = os.path.join(demo, "belayer", "storage", zip_rel)
    with zipfile.ZipFile(zip_abs) as archive:
        check(archive.testzip() is None and archive.namelist() == ["snapshot.db"], "zip is intact and holds the snapshot")
    db_path = os.path.join(demo, "belayer", "app.db")
    db = sqlite3.connect(db_path)
    orders = db.execute("SELECT count(*) FROM orders").fetchone()[0]
    with db:
        db.execute("DELETE FROM orders")
    db.close()
    restore = Run("restore.yaml", {"zipFilePath": zip_rel}, demo)
    restore.step("check")
    restore.step("restore")
    check(int(restore.outputs["restore"]["orders"]) == orders, f"restore brings back all {orders} orders")
    missing = Run("restore.yaml", {"zipFilePath": "dump1/nope.zip"}, demo)
    result = missing.step("check", expect=4)
    check("Invalid path. path:dump1/nope.zip" in result.stderr, "a missing backup gives seed 003's 'Invalid path' and exit 4")
    escape = Run("backup.yaml", {"dirPath": "dump1"}, demo)
    escape.step("archive", env={"PARAM_DIR_PATH": "../../etc"}, expect=4)
    check(True, "a dirPath leaving the storage area is refused even past param validation")


def promotion_scenarios(demo):
    print("promotion (seed 001)")
    setup = subprocess.run([os.path.join(PIPELINES, "scripts", "promotion", "setup-demo-apps.sh")], cwd=PIPELINES,
                           env=dict(os.environ, DEMO_ROOT=demo), capture_output=True, text=True)
    check(setup.returncode == 0, "demo apps created")
    run = Run("promotion.yaml", {"source_app": "my-app-development", "targets": "my-app-staging,my-app-production"}, demo)
    run.step("resolve_source")
    for target in ("my-app-staging", "my-app-production"):
        run.step("promote", item=target)
    report = run.step("report")
    check(report.outputs["summary"] == "my-app-staging=succeeded,my-app-production=succeeded", "both targets promoted")
    apps = os.path.join(demo, "promotion", "apps")
    with open(os.path.join(apps, "my-app-staging", "current", "release.json")) as f:
        check(json.load(f)["source"]["app"] == "my-app-development", "target release records its source")
    run2 = Run("promotion.yaml", {"source_app": "my-app-development", "targets": "my-app-staging,my-app-production"}, demo)
    run2.step("resolve_source")
    env = {"PROMOTE_FAIL_TARGETS": "my-app-production"}
    run2.step("promote", item="my-app-staging", env=env)
    failed = run2.step("promote", item="my-app-production", env=env, expect=1)
    check("maintenance mode" in failed.stderr, "the failing target has its own error message")
    report = run2.step("report")
    check(report.outputs["summary"] == "my-app-staging=succeeded,my-app-production=failed", "per-target status: one succeeded, one failed")


def main():
    if not os.access(RUNNER, os.X_OK):
        sys.exit(f"runner binary not found at {RUNNER}; build it first")
    with tempfile.TemporaryDirectory(prefix="runner-seeds-") as demo:
        for scenario in (docs_scenarios, ingestion_scenarios, belayer_scenarios, promotion_scenarios):
            try:
                scenario(demo)
            except AssertionError as error:
                print(f"FAIL {scenario.__name__}: {error}", file=sys.stderr)
                sys.exit(1)
    print(f"seed scripts: {CHECKS['passed']} checks passed")


if __name__ == "__main__":
    main()
