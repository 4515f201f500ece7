#!/usr/bin/env python3
"""End-to-end check of the Grafana dashboard against a real Prometheus.

Starts `anchorage server` and two workers on loopback (a long run), writes a
file_sd targets file, starts Debian's `prometheus` with a 1 s scrape interval
and the project's alert rules, waits until every target is up, then runs every
PromQL expression of every panel of deploy/grafana/dashboards/anchorage.json
through /api/v1/query and fails when one errors or stays empty for 60 s.
Also checks the server's /metrics with `promtool check metrics`.

Usage: dashboard_queries_test.py ANCHORAGE_BINARY SOURCE_DIR
Only the Python standard library; every child is stopped on exit.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

RATE_INTERVAL = "10s"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def wait_for(what, predicate, timeout, children):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, child in children:
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.returncode} while waiting for {what}")
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def dashboard_queries(path):
    with open(path) as f:
        dashboard = json.load(f)
    queries = []

    def walk(panels):
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []) or []:
                if target.get("expr"):
                    queries.append((panel["title"], target["refId"], target["expr"]))

    walk(dashboard["panels"])
    return queries


def substitute(expr):
    for name in ("$__rate_interval", "${__rate_interval}", "$__interval",
                 "${__interval}", "$__range", "${__range}"):
        expr = expr.replace(name, RATE_INTERVAL)
    # The shard filter at All (every shard; an unsharded server's series too).
    expr = expr.replace("$shard", ".*")
    return expr.replace("${datasource}", "prometheus").replace("$datasource", "prometheus")


def main():
    binary, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    dashboard = os.path.join(source, "deploy/grafana/dashboards/anchorage.json")
    rules = os.path.join(source, "deploy/prometheus/rules.yml")
    queries = dashboard_queries(dashboard)
    if len(queries) < 10:
        raise RuntimeError(f"only {len(queries)} queries found in {dashboard}")

    work = tempfile.mkdtemp(prefix="anchorage-deploy-test-")
    children = []

    def start(name, argv):
        log = open(os.path.join(work, name + ".log"), "w")
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        children.append((name, child))
        return child

    def read_json(path):
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    try:
        training = ["--workers=2", "--model=softmax", "--epochs=0",
                    "--max-versions=100000000", "--local-steps=4",
                    "--eval-interval=1", "--eval-examples=1000"]
        start("server", [binary, "server", *training, "--bind=tcp://127.0.0.1:*",
                         "--metrics-address=127.0.0.1", "--metrics-port=0",
                         "--ready-file=" + os.path.join(work, "server.ready")])
        server = wait_for("the server's ready file",
                          lambda: read_json(os.path.join(work, "server.ready")), 60, children)
        for i in range(2):
            start(f"worker-{i}", [binary, "worker", *training, "--server=" + server["endpoint"],
                                  f"--worker-id={i}", "--metrics-address=127.0.0.1",
                                  "--metrics-port=0",
                                  f"--ready-file={work}/worker-{i}.ready"])
        workers = [wait_for(f"worker {i}'s ready file",
                            lambda i=i: read_json(f"{work}/worker-{i}.ready"), 60, children)
                   for i in range(2)]

        targets = [{"targets": [f"127.0.0.1:{server['metrics_port']}"], "labels": {"role": "server"}}]
        for i, ready in enumerate(workers):
            targets.append({"targets": [f"127.0.0.1:{ready['metrics_port']}"],
                            "labels": {"role": "worker", "worker": str(i)}})
        with open(os.path.join(work, "targets.json"), "w") as f:
            json.dump(targets, f)
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(f"""global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{rules}"]
scrape_configs:
  - job_name: anchorage
    file_sd_configs: [{{files: ["{work}/targets.json"], refresh_interval: 1s}}]
""")
        check = subprocess.run(["promtool", "check", "config", os.path.join(work, "prometheus.yml")],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("promtool check config: " + check.stdout + check.stderr)

        metrics = http_get(f"http://127.0.0.1:{server['metrics_port']}/metrics")
        if "anchorage_build_info" not in metrics:
            raise RuntimeError("the server's /metrics has no anchorage_build_info")
        lint = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                              capture_output=True, text=True)
        if lint.returncode != 0:
            raise RuntimeError("promtool check metrics: " + lint.stdout + lint.stderr)

        prometheus_port = free_port()
        base = f"http://127.0.0.1:{prometheus_port}"
        start("prometheus", ["prometheus", "--config.file=" + os.path.join(work, "prometheus.yml"),
                             "--storage.tsdb.path=" + os.path.join(work, "data"),
                             f"--web.listen-address=127.0.0.1:{prometheus_port}"])
        wait_for("Prometheus to be ready", lambda: http_get(base + "/-/ready"), 30, children)

        def all_up():
            active = json.loads(http_get(base + "/api/v1/targets"))["data"]["activeTargets"]
            return len(active) == 3 and all(t["health"] == "up" for t in active)

        wait_for("all three targets up", all_up, 60, children)
        print("all targets up", flush=True)

        def query(expr):
            url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            try:
                body = json.loads(http_get(url))
            except urllib.error.HTTPError as e:
                body = json.loads(e.read().decode())
            if body.get("status") != "success":
                raise RuntimeError(f"query failed: {expr}\n  {body.get('errorType')}: {body.get('error')}")
            return body["data"]["result"]

        pending = {(title, ref): substitute(expr) for title, ref, expr in queries}
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for key, expr in list(pending.items()):
                if query(expr):
                    del pending[key]
            if pending:
                time.sleep(0.5)
        for (title, ref), expr in pending.items():
            print(f"FAIL: panel {title!r} query {ref} returned no data: {expr}")
        if pending:
            return 1
        print(f"all {len(queries)} dashboard queries returned data", flush=True)
        return 0
    except Exception as e:  # report with the children's logs
        print(f"FAIL: {e}")
        for name, _ in children:
            path = os.path.join(work, name + ".log")
            with open(path, errors="replace") as f:
                print(f"--- {name}.log (tail) ---\n" + "".join(f.readlines()[-15:]))
        return 1
    finally:
        for _, child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
