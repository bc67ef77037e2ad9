#!/usr/bin/env -S python3 -B
"""End-to-end: seed 001's client against `runner serve` with this project's pipelines/.

The client is written from the seed alone (the Heroku Platform API article on pipelines,
/work/shared/seeds/001_*.txt): every request sends `Accept: application/vnd.heroku+json;
version=3` and authenticates as `curl -n` does (a netrc: HTTP Basic, the API token as the
password); it creates a promotion with the article's nested body, polls
GET /pipeline-promotions/:id until `completed`, reads its promotion targets (one succeeding,
one failing), and sends bodies the article rules out. Each check names the seed line it
enforces (001:L144 is line 144 of the seed). The app and pipeline ids are the ones the demo
setup writes, as a Heroku client learns them from GET /pipelines/:id/pipeline-couplings
(L48-93, not served: pipelines/README.md).

Usage: Tests/E2E/contract-001.py [RUNNER]   (default .build/debug/runner). Exit 0 = all passed.
"""
import base64
import json
import netrc
import os
import re
import shutil
import subprocess

from runner_e2e import ROOT, ServeProcess, Work, check, checks, wait_until

ACCEPT = "application/vnd.heroku+json; version=3"  # 001:L9, L144, L174
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")  # 001:L151 "2016-02-11T09:34:05+00:00"
PROMOTION_KEYS = {"created_at", "id", "pipeline", "source", "status", "updated_at"}  # 001:L150-166
TARGET_KEYS = {"app", "error_message", "id", "pipeline_promotion", "release", "status"}  # 001:L180-193
FAILING = "my-app-production"  # PROMOTE_FAIL_TARGETS: its promotion fails (maintenance mode)


class Heroku:
    """The article's client: the netrc's credentials as HTTP Basic (curl -n), Accept v3, JSON."""

    def __init__(self, server, netrc_path):
        login, _, password = netrc.netrc(netrc_path).authenticators("127.0.0.1")
        self.server = server
        self.basic = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()

    def call(self, method, path, body=None, raw=None, authorization=True):
        """(status, the body as JSON or text, the headers)."""
        headers = {"Accept": ACCEPT}
        if authorization:
            headers["Authorization"] = self.basic if authorization is True else authorization
        reply = self.server.http(method, path, body=body, raw=raw, token=None, headers=headers)
        return reply.status, reply.decoded(), reply.headers


def demo_ids(demo):
    """The ids the demo setup gave the apps and the pipeline."""
    def read(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)["id"]
    apps = f"{demo}/promotion/apps"
    ids = {name: read(f"{apps}/{name}/app.json") for name in sorted(os.listdir(apps))}
    return ids, read(f"{demo}/promotion/pipeline.json")


def current_release(demo, app):
    link = os.readlink(f"{demo}/promotion/apps/{app}/current")
    return os.path.basename(link)


def body_of(pipeline, source, targets):
    """The article's body (001:L146): pipeline id, source app id, target app ids."""
    return {"pipeline": {"id": pipeline}, "source": {"app": {"id": source}},
            "targets": [{"app": {"id": t}} for t in targets]}


def curl_promotion(server, home, body):
    """001:L144-147 as written: curl -X POST -H Accept -n -H Content-Type -d BODY. None without curl."""
    if not shutil.which("curl"):
        return None
    out = subprocess.run(["curl", "-s", "-X", "POST", "-H", f"Accept: {ACCEPT}", "-n",
                          "-H", "Content-Type: application/json", "-d", json.dumps(body, separators=(",", ":")),
                          "-w", "\n%{http_code}",
                          f"http://127.0.0.1:{server.port}/pipeline-promotions"],
                         env=dict(os.environ, HOME=home), capture_output=True, text=True, timeout=30)
    text, _, code = out.stdout.rpartition("\n")
    try:
        return int(code), json.loads(text)
    except ValueError:
        return int(code or 0), text


def poll(client, promotion_id, seconds=60):
    """GET /pipeline-promotions/:id until `completed` (001:L167-171): every answer, the last last."""
    seen = []

    def completed():
        status, body, _ = client.call("GET", f"/pipeline-promotions/{promotion_id}")
        seen.append((status, body))
        return status == 200 and isinstance(body, dict) and body.get("status") == "completed"
    wait_until(completed, seconds, interval=0.2)
    return seen


def runs(server):
    """How many promotion runs exist (the runner's own API, a Bearer token)."""
    reply = server.http("GET", "/api/v1/runs?pipeline=promotion&limit=1000")
    return len(reply.decoded().get("runs", [])) if reply.status == 200 else -1


def main():
    with Work("contract-001.") as folder, ServeProcess(folder.dir) as server:
        print("seed 001: Heroku pipeline promotions (promotion.yaml's api: contract)")
        demo = server.env["DEMO_ROOT"]
        server.env["PROMOTE_FAIL_TARGETS"] = FAILING
        setup = subprocess.run([f"{ROOT}/pipelines/scripts/promotion-demo-setup.sh"], cwd=f"{ROOT}/pipelines",
                               env=server.env, capture_output=True, text=True)
        if not check("the demo apps and pipeline are set up, each with its id", setup.returncode == 0, setup.stderr):
            checks.finish("contract-001")
        apps, pipeline_id = demo_ids(demo)
        uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        check("apps and pipeline are identified by UUIDs (001:L18, L36, L157)",
              all(uuid.fullmatch(i) for i in [*apps.values(), pipeline_id]), apps)
        token = server.new_token("operator", "heroku-client")
        server.token = token  # the runner's own API (run counts) takes it as Bearer
        viewer = server.new_token("viewer", "heroku-viewer")
        home = folder.path("client-home")
        os.makedirs(home)
        with open(f"{home}/.netrc", "w") as f:
            f.write(f"machine 127.0.0.1\n  login me@example.com\n  password {token}\n")
        os.chmod(f"{home}/.netrc", 0o600)
        server.start()
        client = Heroku(server, f"{home}/.netrc")
        promotion = create_and_poll(server, client, home, apps, pipeline_id, demo)
        targets_of(client, promotion, apps, demo)
        names_and_queue(client, apps, pipeline_id, demo)
        unknown_apps(client, apps, pipeline_id)
        refused(server, client, apps, pipeline_id, viewer)
    checks.finish("contract-001")


def create_and_poll(server, client, home, apps, pipeline_id, demo):
    """POST /pipeline-promotions (001:L135-166), then GET /pipeline-promotions/:id (L167-171)."""
    body = body_of(pipeline_id, apps["my-app-development"], [apps["my-app-staging"], apps[FAILING]])
    answer = curl_promotion(server, home, body)
    if answer is None:  # no curl on this machine: the same request with the netrc's credentials
        status, created, _ = client.call("POST", "/pipeline-promotions", body)
    else:
        status, created = answer
    check("curl -n with the article's headers and nested body: 201 (001:L144-147)", status == 201, (status, created))
    created = created if isinstance(created, dict) else {}
    check("the answer has the article's fields, no others (001:L150-166)", set(created) == PROMOTION_KEYS, created)
    check("status pending (001:L164)", created.get("status") == "pending", created.get("status"))
    check("created_at and updated_at as 2016-02-11T09:34:05+00:00, equal at creation (001:L151, L165)",
          all(TIMESTAMP.fullmatch(str(created.get(k))) for k in ("created_at", "updated_at"))
          and created.get("created_at") == created.get("updated_at"), created)
    check("pipeline.id and source.app.id as sent (001:L153-159)", created.get("pipeline") == {"id": pipeline_id}
          and created.get("source", {}).get("app") == {"id": apps["my-app-development"]}, created)
    release = created.get("source", {}).get("release")
    check("source.release is {id}, null until the first step resolved it (001:L160-162, C001-11 reading)",
          isinstance(release, dict) and set(release) == {"id"}
          and release["id"] in (None, current_release(demo, "my-app-development")), release)
    promotion_id = created.get("id", "none")
    seen = poll(client, promotion_id)
    final = seen[-1][1] if seen else {}
    check("GET /pipeline-promotions/:id: 200, pending until it converges to completed (001:L167-171)",
          all(s == 200 and b.get("status") in ("pending", "completed") for s, b in seen)
          and final.get("status") == "completed", [b.get("status") if isinstance(b, dict) else b for _, b in seen][-5:])
    check("the same resource: its fields and id (001:L168)",
          set(final) == PROMOTION_KEYS and final.get("id") == promotion_id, final)
    check("source.release.id: the release the source app ran (001:L160-162)",
          final.get("source", {}).get("release") == {"id": current_release(demo, "my-app-development")},
          final.get("source"))
    check("updated_at moved on with the promotion, created_at did not (001:L165, L167)",
          TIMESTAMP.fullmatch(str(final.get("updated_at"))) and final.get("created_at") == created.get("created_at")
          and final.get("updated_at", "") >= final.get("created_at", "~"), final)
    run = server.http("GET", f"/api/v1/runs/{promotion_id}").decoded()
    check("a promotion whose target failed is still completed (001:L170-178; the run is partial)",
          run.get("status") == "partial" and final.get("status") == "completed", run.get("status"))
    return promotion_id


def targets_of(client, promotion_id, apps, demo):
    """GET /pipeline-promotions/:id/promotion-targets (001:L172-193)."""
    status, targets, _ = client.call("GET", f"/pipeline-promotions/{promotion_id}/promotion-targets")
    check("promotion-targets: 200, a bare JSON array, one element per target (001:L174-179)",
          status == 200 and isinstance(targets, list) and len(targets) == 2, (status, targets))
    targets = targets if isinstance(targets, list) else []
    by_app = {t.get("app", {}).get("id"): t for t in targets if isinstance(t, dict)}
    check("each target has the article's fields, no others (001:L180-193)",
          targets and all(set(t) == TARGET_KEYS for t in targets), targets)
    check("app.id: the target as sent (001:L181-183)", set(by_app) == {apps["my-app-staging"], apps[FAILING]},
          list(by_app))
    check("pipeline_promotion.id is the promotion's id (001:L186-188)",
          targets and all(t.get("pipeline_promotion") == {"id": promotion_id} for t in targets), targets)
    ids = [t.get("id") for t in targets]
    check("each target has its own id, not the promotion's (001:L185)",
          len(set(ids)) == 2 and promotion_id not in ids and all(isinstance(i, str) and i for i in ids), ids)
    ok = by_app.get(apps["my-app-staging"], {})
    check("the promoted target: succeeded, error_message null, release.id the release it runs (001:L184, L189-192)",
          ok.get("status") == "succeeded" and "error_message" in ok and ok["error_message"] is None
          and ok.get("release") == {"id": current_release(demo, "my-app-staging")}, ok)
    bad = by_app.get(apps[FAILING], {})
    check("the failed target: status failed, its error_message, release null (001:L176-178)",
          bad.get("status") == "failed" and "maintenance mode" in str(bad.get("error_message"))
          and bad.get("release") is None and "release" in bad, bad)
    _, again, _ = client.call("GET", f"/pipeline-promotions/{promotion_id}/promotion-targets")
    check("target ids are stable from one read to the next (001:L185)",
          isinstance(again, list) and [t.get("id") for t in again] == ids, again)


def names_and_queue(client, apps, pipeline_id, demo):
    """Apps by name too (Heroku's id_or_name, 001:L95, L129); a second promotion from the same
    source waits for the first, pending, its targets listed pending (C001-18 reading)."""
    first_body = body_of(pipeline_id, apps["my-app-development"], [apps["my-app-staging"]])
    status, first, _ = client.call("POST", "/pipeline-promotions", first_body)
    second_body = body_of("my-pipeline", "my-app-development", ["my-app-staging"])
    status2, second, _ = client.call("POST", "/pipeline-promotions", second_body)
    check("two promotions from one source: both 201, no 409 (the seed has none)", status == 201 and status2 == 201,
          (status, first, status2, second))
    second_id = second.get("id", "none") if isinstance(second, dict) else "none"
    _, listed, _ = client.call("GET", f"/pipeline-promotions/{second_id}/promotion-targets")
    check("the waiting one's targets are listed, pending, before it ran (001:L172, C001-18 reading)",
          isinstance(listed, list) and [t.get("status") for t in listed] == ["pending"]
          and listed[0].get("release") is None and listed[0].get("error_message") is None, listed)
    for promotion_id in (first.get("id", "none") if isinstance(first, dict) else "none", second_id):
        seen = poll(client, promotion_id)
        check(f"promotion {promotion_id} converges to completed (001:L170)",
              seen and seen[-1][1].get("status") == "completed", seen[-1:] if seen else seen)
    _, targets, _ = client.call("GET", f"/pipeline-promotions/{second_id}/promotion-targets")
    target = targets[0] if isinstance(targets, list) and targets else {}
    check("apps and pipeline named by name: promoted, app.id as sent (id_or_name, 001:L95, L129)",
          target.get("status") == "succeeded" and target.get("app") == {"id": "my-app-staging"}
          and target.get("release") == {"id": current_release(demo, "my-app-staging")}, target)


def unknown_apps(client, apps, pipeline_id):
    """Ids that name nothing: the promotion is created and completes with every target failed
    (C001-14 reading: the seed has no failed promotion)."""
    nobody = "".join("0123456789abcdef"[("0123456789abcdef".index(c) + 1) % 16] if c != "-" else c
                     for c in apps["my-app-development"])  # every digit moved on: no app's id
    cases = [
        ("a source app id no app has", body_of(pipeline_id, nobody, [apps["my-app-staging"]]), "does not exist"),
        ("a pipeline id that is not the apps'", body_of(nobody, apps["my-app-development"], [apps["my-app-staging"]]),
         "Couldn't find that pipeline"),
        ("a target app id no app has", body_of(pipeline_id, apps["my-app-development"], [nobody]),
         "Couldn't find that app"),
    ]
    for what, body, message in cases:
        status, created, _ = client.call("POST", "/pipeline-promotions", body)
        promotion_id = created.get("id", "none") if isinstance(created, dict) else "none"
        seen = poll(client, promotion_id)
        _, targets, _ = client.call("GET", f"/pipeline-promotions/{promotion_id}/promotion-targets")
        check(f"{what}: 201, completed, every target failed saying why (C001-14 reading)",
              status == 201 and seen and seen[-1][1].get("status") == "completed" and isinstance(targets, list)
              and targets and all(t.get("status") == "failed" and message in str(t.get("error_message"))
                                  and t.get("release") is None for t in targets), (status, targets))


def refused(server, client, apps, pipeline_id, viewer):
    """Unknown promotions, credentials and bodies the article rules out: 4xx in Heroku's error
    shape ({id, message}), never a 5xx, nothing launched."""
    good = body_of(pipeline_id, apps["my-app-development"], [apps["my-app-staging"]])
    for path in ["/pipeline-promotions/20991231-000000-000000", "/pipeline-promotions/nope/promotion-targets",
                 "/pipeline-promotions/..%2F..%2Fetc", "/pipeline-promotions/a%2Fb/promotion-targets",
                 "/pipeline-promotions/%2e%2e/promotion-targets", "/pipeline-promotions/x/promotion-targets/"]:
        status, body, _ = client.call("GET", path)
        check(f"GET {path}: 404 {{id: not_found, message}} (C001-13 reading)",
              status == 404 and isinstance(body, dict) and body.get("id") == "not_found"
              and set(body) == {"id", "message"}, (status, body))
    status, body, headers = client.call("DELETE", "/pipeline-promotions/20991231-000000-000000")
    check("a method no route takes: 405 with Allow, Heroku's shape", status == 405 and headers.get("Allow") == "GET"
          and isinstance(body, dict) and body.get("id") == "method_not_allowed", (status, body))
    before = runs(server)
    status, body, headers = client.call("POST", "/pipeline-promotions", good, authorization=False)
    check("no credentials (no netrc): 401 {id: unauthorized}, WWW-Authenticate Basic (001:L144 -n)",
          status == 401 and isinstance(body, dict) and body.get("id") == "unauthorized"
          and headers.get("WWW-Authenticate", "").startswith("Basic"), (status, body, dict(headers)))
    wrong = "Basic " + base64.b64encode(b"me@example.com:rnr_0000000000000000_" + b"0" * 64).decode()
    status, body, _ = client.call("POST", "/pipeline-promotions", good, authorization=wrong)
    check("a netrc password that is no token: 401 {id: unauthorized}",
          status == 401 and body.get("id") == "unauthorized", (status, body))
    status, body, _ = client.call("POST", "/pipeline-promotions", good, authorization=f"Bearer {viewer}")
    check("a viewer's token (Bearer taken too): 403 {id: forbidden}", status == 403 and body.get("id") == "forbidden",
          (status, body))
    for what, raw, code, word in bad_bodies(apps, pipeline_id):
        status, body, _ = client.call("POST", "/pipeline-promotions", raw=raw)
        check(f"{what}: {code} {{id: {word}, message}} (001:L138-146)",
              status == code and isinstance(body, dict) and body.get("id") == word and set(body) == {"id", "message"},
              (status, body))
    check("nothing was launched by a refused request", runs(server) == before, (before, runs(server)))


def bad_bodies(apps, pipeline_id):
    """Bodies that break the article's shape (001:L138-143: pipeline:id, the source app's app:id and an
    array of target app:ids are required): (what, raw body, HTTP status, Heroku's error id)."""
    source, target = apps["my-app-development"], apps["my-app-staging"]
    good = body_of(pipeline_id, source, [target])

    def with_(**changes):
        return json.dumps({**good, **changes}).encode()
    invalid = [
        ("targets not a list", with_(targets={"app": {"id": target}})),
        ("targets missing", json.dumps({"pipeline": good["pipeline"], "source": good["source"]}).encode()),
        ("targets empty", with_(targets=[])),
        ("a target without app.id", with_(targets=[{"app": {}}])),
        ("a target's app not an object", with_(targets=[{"app": target}])),
        ("a target's app.id a number", with_(targets=[{"app": {"id": 7}}])),
        ("a target's app.id a path", with_(targets=[{"app": {"id": "../../etc"}}])),
        ("one target twice", with_(targets=[{"app": {"id": target}}] * 2)),
        ("21 targets", with_(targets=[{"app": {"id": f"app-{n:02d}"}} for n in range(21)])),
        ("source missing", json.dumps({"pipeline": good["pipeline"], "targets": good["targets"]}).encode()),
        ("source.app.id missing", with_(source={"app": {}})),
        ("source a string", with_(source=source)),
        ("source.app.id a list", with_(source={"app": {"id": [source]}})),
        ("source.app.id neither a UUID nor an app name", with_(source={"app": {"id": "My App"}})),
        ("pipeline an id string, not {id}", with_(pipeline=pipeline_id)),
        ("pipeline.id a number", with_(pipeline={"id": 3})),
    ]
    bad_request = [
        ("a body that is not JSON", b"pipeline=1"),
        ("a JSON array", json.dumps([good]).encode()),
        ("a field the article does not have", with_(force=True)),
        ("a nested field the article does not have", with_(source={"app": {"id": source, "name": "x"}})),
    ]
    return ([(what, raw, 422, "invalid_params") for what, raw in invalid]
            + [(what, raw, 400, "bad_request") for what, raw in bad_request])


if __name__ == "__main__":
    main()
