"""Shared helpers for the example pipelines' Python steps (standard library only).
Values from outside arrive as environment variables; nothing here runs a shell."""
import os
import signal
import sys

# Next to the pipelines' folder, also when a step runs in a run's workspace (a checkout).
DEMO_ROOT = os.environ.get("DEMO_ROOT", os.path.join(os.environ.get("RUNNER_PIPELINE_DIR", "."), "..", ".demo"))
STEP = os.environ.get("RUNNER_STEP", "step")


def die(message, code=1):
    print(f"{STEP}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def inject_failure(message="injected failure", code=1):
    """Fails when this step's name is in INJECT_FAIL (comma-separated); with
    INJECT_FAIL_TIMES=N only attempts 1..N fail, so a retry then succeeds."""
    step = STEP.split("[", 1)[0]
    if step not in [s.strip() for s in os.environ.get("INJECT_FAIL", "").split(",")]:
        return
    times = os.environ.get("INJECT_FAIL_TIMES", "")
    if times and attempt() > int(times):
        return
    die(f"{message} (injected by INJECT_FAIL)", code)


def attempt():
    try:
        return int(os.environ.get("RUNNER_ATTEMPT", "1"))
    except ValueError:
        return 1


def output(key, value):
    value = str(value)
    if "\n" in value:
        die(f"output {key} would span several lines")
    path = os.environ.get("RUNNER_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{key}={value}\n")
    print(f"output {key}={value}", flush=True)


def progress(percent, message=""):
    """Appends `NN [message]` to RUNNER_PROGRESS; the runner shows the last line."""
    path = os.environ.get("RUNNER_PROGRESS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{int(percent)} {message}".rstrip() + "\n")


def run_dir(pipeline):
    path = os.path.join(DEMO_ROOT, pipeline, "runs", os.environ.get("RUNNER_RUN_ID", "manual"))
    os.makedirs(path, exist_ok=True)
    return path


def exit_on_sigterm():
    """The runner cancels a step with SIGTERM: turn it into SystemExit(143) so `finally`
    blocks remove partial files before the process ends."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
