"""Shared helpers for the example pipelines' Python steps (standard library only)."""
import os
import sys

DEMO_ROOT = os.environ.get("DEMO_ROOT", "../.demo")
STEP = os.environ.get("RUNNER_STEP", "step")


def die(message, code=1):
    print(f"{STEP}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def inject_failure(message="injected failure", code=1):
    step = STEP.split("[", 1)[0]
    if step in [s.strip() for s in os.environ.get("INJECT_FAIL", "").split(",")]:
        die(f"{message} (injected by INJECT_FAIL)", code)


def output(key, value):
    path = os.environ.get("RUNNER_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{key}={value}\n")
    print(f"output {key}={value}", flush=True)


def progress(percent, message=""):
    path = os.environ.get("RUNNER_PROGRESS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{int(percent)} {message}\n".rstrip() + "\n")


def run_dir(pipeline):
    path = os.path.join(DEMO_ROOT, pipeline, "runs", os.environ.get("RUNNER_RUN_ID", "manual"))
    os.makedirs(path, exist_ok=True)
    return path
