#!/usr/bin/env python3
"""Generates the DAG benchmark's workloads, each in four formats that describe the same DAG.

For every workload, OUT/<workload>/ gets:
  pipeline.yaml  runner pipeline (`steps:` with `needs:`)
  build.ninja    one rule whose command is CMD; every edge has an output that is never
                 created, so ninja runs every edge on every invocation
  Makefile       .PHONY targets, so make runs every recipe on every invocation
  Taskfile.yml   go-task tasks with `deps:`; `run: once` so a task that several tasks depend
                 on runs once per invocation (go-task's default `run: always` would run it
                 once per dependent), and no `sources:`/`status:`, so nothing is ever skipped

Workloads (every step runs CMD, `true` by default):
  w1  a 1,000-step chain: s0001 needs s0000, s0002 needs s0001, ...
  w2  1,000 independent steps
  w3  10 layers x 100 steps; every step of layer k needs all 100 steps of layer k-1
  w4  a 6-step diamond: a -> b, c, d, e -> f
  w5  10,000 independent steps (peak RSS only)

Usage: bench/gen_dag.py [--out bench/gen/dag] [--cmd 'true'] [--only w1,w3]
       bench/gen_dag.py --check LOG --only w3
With a --cmd that mentions $STEP (e.g. '/bin/echo $STEP >> "$COUNT_FILE"'), each step's command
gets STEP set to the step's name first, in every format. --check LOG then reads the lines such
a run appended and checks that every step of the workload ran exactly once and after all the
steps it needs (exit 1 otherwise). Use an external /bin/echo: go-task's built-in echo writes the
name and the newline separately, so concurrent steps' lines interleave.
"""
import argparse
import os


def chain(n):
    names = [f"s{i:04d}" for i in range(n)]
    return [(name, [names[i - 1]] if i else []) for i, name in enumerate(names)]


def independent(n):
    return [(f"s{i:04d}", []) for i in range(n)]


def layers(count, width):
    steps = []
    previous = []
    for layer in range(count):
        current = [f"s{layer * width + i:04d}" for i in range(width)]
        steps += [(name, list(previous)) for name in current]
        previous = current
    return steps


def diamond():
    return [("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["a"]), ("e", ["a"]), ("f", ["b", "c", "d", "e"])]


WORKLOADS = {
    "w1": lambda: chain(1000),
    "w2": lambda: independent(1000),
    "w3": lambda: layers(10, 100),
    "w4": diamond,
    "w5": lambda: independent(10000),
}


def leaves(steps):
    needed = {dep for _, deps in steps for dep in deps}
    return [name for name, _ in steps if name not in needed]


def yaml_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command(cmd, name, counting):
    # STEP=<name> is only prepended when the command refers to it (the counting check);
    # the timed workloads run exactly CMD.
    return f"STEP={name}; {cmd}" if counting else cmd


def runner_yaml(workload, steps, cmd, counting):
    out = ["version: 1", f"name: {workload}", "steps:"]
    for name, deps in steps:
        run = yaml_quote(command(cmd, name, counting))
        needs = f", needs: [{', '.join(deps)}]" if deps else ""
        out.append(f"  - {{name: {name}, run: {run}{needs}}}")
    return "\n".join(out) + "\n"


def ninja(steps, cmd, counting):
    out = [
        "# Outputs are never created: ninja finds every edge dirty and runs all of them, every time.",
        "rule step",
        # `$` is ninja's own variable syntax: the shell's `$` is written `$$`.
        f"  command = {'STEP=$name; ' if counting else ''}{cmd.replace('$', '$$')}",
        "",
    ]
    for name, deps in steps:
        implicit = f" | {' '.join(deps)}" if deps else ""
        out.append(f"build {name}: step{implicit}")
        if counting:
            out.append(f"  name = {name}")
    return "\n".join(out) + "\n"


def makefile(steps, cmd, counting):
    names = [name for name, _ in steps]
    out = [".PHONY: all " + " ".join(names), f"all: {' '.join(leaves(steps))}", ""]
    for name, deps in steps:
        recipe = command(cmd, name, counting).replace("$", "$$")
        out.append(f"{name}:{' ' + ' '.join(deps) if deps else ''}")
        out.append(f"\t@{recipe}")
    return "\n".join(out) + "\n"


def taskfile(steps, cmd, counting):
    out = ["version: '3'", "run: once", "tasks:", "  default:", f"    deps: [{', '.join(leaves(steps))}]"]
    for name, deps in steps:
        out.append(f"  {name}:")
        if deps:
            out.append(f"    deps: [{', '.join(deps)}]")
        out.append(f"    cmds: [{yaml_quote(command(cmd, name, counting))}]")
        out.append("    silent: true")
    return "\n".join(out) + "\n"


def check(workload, log_path):
    steps = WORKLOADS[workload]()
    with open(log_path) as f:
        lines = [line.strip() for line in f if line.strip()]
    position = {}
    problems = []
    for i, name in enumerate(lines):
        if name in position:
            problems.append(f"{name} ran more than once")
        position.setdefault(name, i)
    for name, deps in steps:
        if name not in position:
            problems.append(f"{name} did not run")
            continue
        problems += [f"{name} ran before {dep}" for dep in deps if position.get(dep, len(lines)) > position[name]]
    known = {name for name, _ in steps}
    problems += [f"unknown line {name!r}" for name in position if name not in known]
    if problems:
        print(f"{log_path}: {len(problems)} problems, e.g. " + "; ".join(problems[:5]))
        return 1
    print(f"{log_path}: all {len(steps)} steps ran once, each after its needs")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench/gen/dag")
    parser.add_argument("--cmd", default="true")
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--check", metavar="LOG")
    args = parser.parse_args()
    if args.check:
        raise SystemExit(check(args.only, args.check))
    counting = "$STEP" in args.cmd
    for workload in args.only.split(","):
        steps = WORKLOADS[workload]()
        directory = os.path.join(args.out, workload)
        os.makedirs(directory, exist_ok=True)
        files = {
            "pipeline.yaml": runner_yaml(workload, steps, args.cmd, counting),
            "build.ninja": ninja(steps, args.cmd, counting),
            "Makefile": makefile(steps, args.cmd, counting),
            "Taskfile.yml": taskfile(steps, args.cmd, counting),
        }
        for filename, text in files.items():
            with open(os.path.join(directory, filename), "w") as f:
                f.write(text)
        print(f"{directory}: {len(steps)} steps, {sum(len(d) for _, d in steps)} edges")


if __name__ == "__main__":
    main()
