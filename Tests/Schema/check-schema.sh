#!/usr/bin/env bash
# Proves that schemas/pipeline.schema.json and the runner's loader agree.
#
# Usage: Tests/Schema/check-schema.sh [RUNNER_BINARY]
#
#   (a) the schema is valid JSON Schema 2020-12 (check-jsonschema --check-metaschema), and
#       reads the same under draft-07 rules (what yaml-language-server implements): every
#       file below gets the same verdict from a draft-07 and a 2020-12 validator;
#   (b) every pipelines/*.yaml, Tests/Fixtures/pipelines/valid/*.yaml and
#       Tests/Fixtures/schema/valid/*.yaml passes the schema;
#   (c) every Tests/Fixtures/schema/invalid/*.yaml (one structural error each, described by
#       its first line `# expect: ...`) is valid YAML and fails the schema, file by file;
#   (d) with RUNNER_BINARY: `RUNNER validate FILE` exits 0 for each valid file and 2 for
#       each invalid one, so the loader and the schema agree.
#
# Prints one line per file and a summary; exits 0 when all agree, 1 on any disagreement,
# 2 when a tool is missing or the arguments are wrong. Needs check-jsonschema
# (pip install check-jsonschema) and python3.
set -uo pipefail

usage() { echo "usage: Tests/Schema/check-schema.sh [RUNNER_BINARY]" >&2; exit 2; }
[ $# -le 1 ] || usage
case "${1:-}" in -h|--help) usage ;; esac

RUNNER=""
if [ $# -eq 1 ]; then
    case "$1" in /*) RUNNER="$1" ;; *) RUNNER="$PWD/$1" ;; esac
    [ -f "$RUNNER" ] && [ -x "$RUNNER" ] || { echo "check-schema: runner binary '$1' is not an executable file" >&2; exit 2; }
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 2
SCHEMA=schemas/pipeline.schema.json
command -v check-jsonschema >/dev/null 2>&1 || {
    echo "check-schema: check-jsonschema not found; install it with: python3 -m pip install check-jsonschema" >&2
    exit 2
}
command -v python3 >/dev/null 2>&1 || { echo "check-schema: python3 not found" >&2; exit 2; }

shopt -s nullglob
VALID=(pipelines/*.yaml Tests/Fixtures/pipelines/valid/*.yaml Tests/Fixtures/schema/valid/*.yaml)
INVALID=(Tests/Fixtures/schema/invalid/*.yaml)
shopt -u nullglob

failures=0
fail() { failures=$((failures + 1)); }

# -- (a) the schema itself ---------------------------------------------------------------
if out=$(check-jsonschema --check-metaschema "$SCHEMA" 2>&1); then
    echo "ok   schema   $SCHEMA: valid JSON Schema 2020-12"
else
    echo "FAIL schema   $SCHEMA: not valid JSON Schema 2020-12:"
    echo "$out" | sed 's/^/       /'
    echo "schema check: the schema itself is invalid; no file checked"
    exit 1
fi

# Same verdicts under draft-07 rules: no keyword newer than draft-07 may decide anything,
# since yaml-language-server validates with draft-07 semantics. YAML is read the way
# check-jsonschema reads it (ruamel.yaml, timestamps kept as strings).
draft07=$(python3 - "$SCHEMA" "${VALID[@]}" "${INVALID[@]}" <<'PY' 2>&1
import json, sys
try:
    import jsonschema, ruamel.yaml
except ImportError as e:
    print(f"skip draft-07 comparison: {e} (python3 without check-jsonschema's modules)")
    sys.exit(0)
schema = json.load(open(sys.argv[1]))
d7 = dict(schema, **{"$schema": "http://json-schema.org/draft-07/schema#"})
v7, v20 = jsonschema.Draft7Validator(d7), jsonschema.Draft202012Validator(schema)
yaml = ruamel.yaml.YAML(typ="safe", pure=True)
class Constructor(ruamel.yaml.SafeConstructor):
    pass
yaml.Constructor = Constructor
yaml.constructor.yaml_constructors["tag:yaml.org,2002:timestamp"] = yaml.constructor.yaml_constructors["tag:yaml.org,2002:str"]
differ = []
for path in sys.argv[2:]:
    try:
        data = yaml.load(open(path, "rb"))
    except ruamel.yaml.YAMLError:
        continue
    if v7.is_valid(data) != v20.is_valid(data):
        differ.append(path)
if differ:
    print("draft-07 and 2020-12 disagree on: " + ", ".join(differ))
    sys.exit(1)
print(f"{len(sys.argv) - 2} files get the same verdict under draft-07 rules")
PY
)
case $? in
    0) case "$draft07" in
           skip*) echo "skip schema   $draft07" ;;
           *) echo "ok   schema   $draft07" ;;
       esac ;;
    *) echo "FAIL schema   $draft07"; fail ;;
esac

# -- (b), (c): one check-jsonschema run, its JSON report read file by file ---------------
# Each line of $verdicts: "error|parse<TAB>FILE<TAB>first message" for a rejected file.
report=$(check-jsonschema -o json --schemafile "$SCHEMA" "${VALID[@]}" "${INVALID[@]}" 2>/dev/null)
verdicts=$(printf '%s' "$report" | python3 -c '
import json, re, sys
report = json.load(sys.stdin)
seen = set()
def line(kind, name, message):
    if name in seen:
        return
    seen.add(name)
    message = re.sub(r"\s+", " ", str(message)).strip()
    print(f"{kind}\t{name}\t{message[:150]}")
for e in report.get("parse_errors", []):
    line("parse", e.get("filename", ""), e.get("message", ""))
for e in report.get("errors", []):
    line("error", e["filename"], str(e.get("path", "$")) + ": " + str(e.get("message", "")))
') || {
    echo "FAIL check-jsonschema did not produce a JSON report:"
    printf '%s\n' "$report" | head -20 | sed 's/^/       /'
    exit 1
}
declare -A kind=() message=()
while IFS=$'\t' read -r k f m; do
    [ -n "$f" ] || continue
    kind["$f"]=$k
    message["$f"]=$m
done <<< "$verdicts"

# -- (d) helper --------------------------------------------------------------------------
loader_exit() {
    "$RUNNER" validate "$1" >/dev/null 2>&1
    echo $?
}

for f in "${VALID[@]}"; do
    status=ok
    detail="schema accepts"
    if [ -n "${kind[$f]:-}" ]; then
        status=FAIL
        if [ "${kind[$f]}" = parse ]; then detail="not parsed: ${message[$f]}"; else detail="schema REJECTS: ${message[$f]}"; fi
    fi
    if [ -n "$RUNNER" ]; then
        rc=$(loader_exit "$f")
        if [ "$rc" = 0 ]; then detail="$detail; runner exit 0"; else status=FAIL; detail="$detail; runner exit $rc, expected 0"; fi
    fi
    [ "$status" = ok ] || fail
    printf '%-4s valid    %s: %s\n' "$status" "$f" "$detail"
done

for f in "${INVALID[@]}"; do
    status=ok
    expect=$(head -n 1 "$f")
    case "$expect" in
        "# expect: "?*) expect=${expect#"# expect: "} ;;
        *) expect="(no '# expect:' first line)"; status=FAIL ;;
    esac
    case "${kind[$f]:-}" in
        error) detail="schema rejects: ${message[$f]}" ;;
        parse) status=FAIL; detail="NOT VALID YAML, the fixture must hold a structural error only: ${message[$f]}" ;;
        *) status=FAIL; detail="schema ACCEPTS it" ;;
    esac
    if [ -n "$RUNNER" ]; then
        rc=$(loader_exit "$f")
        if [ "$rc" = 2 ]; then detail="$detail; runner exit 2"; else status=FAIL; detail="$detail; runner exit $rc, expected 2"; fi
    fi
    [ "$status" = ok ] || fail
    printf '%-4s invalid  %s [%s]: %s\n' "$status" "$f" "$expect" "$detail"
done

if [ -n "$RUNNER" ]; then
    against="schema and runner ($RUNNER)"
else
    against="schema only (no runner binary given: loader agreement not checked)"
fi
echo "schema check: ${#VALID[@]} valid and ${#INVALID[@]} invalid files against the $against: $failures disagreement(s)"
[ "$failures" -eq 0 ]
