#!/usr/bin/env python3
"""Proves schemas/pipeline.schema.json and the runner's loader agree.

1. The schema is valid JSON Schema 2020-12 (check-jsonschema --check-metaschema).
2. Every valid file (pipelines/, Tests/Fixtures/pipelines/valid/, Tests/Fixtures/schema/valid/)
   passes the schema and `runner validate` (exit 0).
3. Every file of Tests/Fixtures/schema/invalid/ (one structural error each) fails the schema
   and `runner validate` (exit 2).

Usage: Tests/Schema/check-schema.py RUNNER_BINARY
"""
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.path.join(ROOT, "schemas", "pipeline.schema.json")


def schema_failures(files):
    """The files check-jsonschema rejects, in one run."""
    result = subprocess.run(["check-jsonschema", "-o", "json", "--schemafile", SCHEMA, *files],
                            capture_output=True, text=True)
    report = json.loads(result.stdout)
    failed = {e["filename"] for e in report.get("errors", [])}
    failed |= {e.get("filename", "") for e in report.get("parse_errors", [])}
    return {os.path.abspath(f) for f in failed}


def loader_exit(runner, path):
    return subprocess.run([runner, "validate", path], capture_output=True).returncode


def main():
    runner = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "runner")
    meta = subprocess.run(["check-jsonschema", "--check-metaschema", SCHEMA], capture_output=True, text=True)
    if meta.returncode != 0:
        sys.exit(f"schema is not valid JSON Schema:\n{meta.stdout}{meta.stderr}")
    print("ok   schema passes the 2020-12 metaschema")
    valid = sorted(glob.glob(os.path.join(ROOT, "pipelines", "*.yaml"))
                   + glob.glob(os.path.join(ROOT, "Tests", "Fixtures", "pipelines", "valid", "*.yaml"))
                   + glob.glob(os.path.join(ROOT, "Tests", "Fixtures", "schema", "valid", "*.yaml")))
    invalid = sorted(glob.glob(os.path.join(ROOT, "Tests", "Fixtures", "schema", "invalid", "*.yaml")))
    rejected_valid = schema_failures(valid)
    rejected_invalid = schema_failures(invalid)
    disagreements = 0
    for path in valid:
        rel = os.path.relpath(path, ROOT)
        schema_ok, loader = path not in rejected_valid, loader_exit(runner, path)
        fine = schema_ok and loader == 0
        disagreements += not fine
        print(f"{'ok  ' if fine else 'FAIL'} valid    {rel}: schema {'accepts' if schema_ok else 'REJECTS'}, loader exit {loader}")
    for path in invalid:
        rel = os.path.relpath(path, ROOT)
        schema_rejects, loader = path in rejected_invalid, loader_exit(runner, path)
        fine = schema_rejects and loader == 2
        disagreements += not fine
        print(f"{'ok  ' if fine else 'FAIL'} invalid  {rel}: schema {'rejects' if schema_rejects else 'ACCEPTS'}, loader exit {loader}")
    print(f"schema agreement: {len(valid)} valid and {len(invalid)} invalid files, {disagreements} disagreements")
    sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
