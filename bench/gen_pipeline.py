#!/usr/bin/env python3
"""Generates a realistic, valid pipeline of N steps for the validate benchmark.

Each step is a block like people write: a description, a multi-line script reading params,
needs on earlier steps of its stage, some conditions on those steps, a timeout, a retry with
backoff, error classes, an error code, outputs and env. Deterministic for a given N.

Usage: bench/gen_pipeline.py N [--stages K] > file.yaml
"""
import argparse
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("steps", type=int)
    parser.add_argument("--stages", type=int, default=None)
    parser.add_argument("--rich", action="store_true", help="longer step blocks (about 220 bytes a step instead of 175)")
    args = parser.parse_args()
    rich = args.rich
    n = args.steps
    stages = args.stages or max(1, n // 100)
    rng = random.Random(n)
    out = [
        "version: 1",
        f"name: generated-{n}",
        f"description: A generated pipeline of {n} steps in {stages} stages.",
        "params:",
        "  mode: {type: enum, values: [fast, full], default: fast}",
        "  dry_run: {type: bool, default: false}",
        "  targets: {type: list, items: {type: enum, values: [a, b, c]}, default: [a]}",
        "  label: {type: string, max_length: 64}",
        "errors:",
        "  - {exit_codes: [75], code: RATE_LIMITED, retry: {attempts: 5, backoff: {initial: 1s, max: 30s}}}",
        "  - {exit_codes: [78], code: INVALID_RESPONSE, retry: none}",
        "defaults: {timeout: 10m}",
        "stages:",
    ]
    per_stage = [n // stages + (1 if s < n % stages else 0) for s in range(stages)]
    index = 0
    for s, count in enumerate(per_stage):
        out.append(f"  - name: stage_{s:03d}")
        out.append("    steps:")
        first = index
        for j in range(count):
            name = f"step_{index:05d}"
            out.append(f"      - name: {name}")
            if rich and index % 10 == 0:
                out.append(f"        description: build part {index}")
            if index % (5 if rich else 10) == 0:
                out.append("        run: |")
                out.append(f"          echo \"building {index} in $PARAM_MODE mode\"")
                out.append(f"          make -C src/part{index % 97} TARGET=t{index}")
            elif rich:
                out.append(f"        run: make -C src/part{index % 97} TARGET=t{index}")
            else:
                out.append(f"        run: make part{index}")
            if j > 0:
                needs = sorted({f"step_{first + rng.randrange(j):05d}" for _ in range(rng.randint(1, 2))})
                out.append(f"        needs: [{', '.join(needs)}]")
                if j % 4 == 0:
                    out.append(f"        if: params.mode == \"full\" && steps.{needs[0]}.status == \"succeeded\"")
            if index % 3 == 0:
                out.append("        timeout: 5m")
            if index % 2 == 0:
                out.append("        retry: {attempts: 3, backoff: {initial: 1s, factor: 2, max: 30s}}" if rich
                           else "        retry: {attempts: 3, backoff: {initial: 1s}}")
            if index % 5 == 0:
                out.append("        errors:")
                out.append("          - {exit_codes: [3], code: FLAKY_TEST, retry: 2}")
            if index % 2 == 1:
                out.append("        error: BUILD_FAILED")
            if index % 4 == 0:
                out.append("        outputs: [artifact]")
            if rich and index % 10 == 0:
                out.append(f"        env: {{PART: \"{index}\"}}")
            index += 1
    print("\n".join(out))


if __name__ == "__main__":
    main()
