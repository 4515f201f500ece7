#!/usr/bin/env python3
"""Checks the manifests `helm template` renders from helm/anchorage.

Input: a stream of JSON objects (helm template | kubectl label --local -o json,
which parses YAML offline), on stdin. Usage:
  check_manifests.py EXPECTED_WORKERS DASHBOARD_JSON < objects.json
Checks the run's shape (the server a one-pod Job, the workers an Indexed Job
with completions = parallelism = workers, both restartPolicy OnFailure with a
backoffLimit, no Deployment/StatefulSet that would restart a finished run,
the worker id taken from the completion index), standard labels, that
Services select the pods they front (the server Service the server Job's
pod template labels), that the workers' pod subdomain is their headless
Service, that container ports match the --bind/--metrics-port flags the
binaries get, that probes use the metrics port, that workers reach the
server through its Service DNS name, and the optional ServiceMonitor and
dashboard ConfigMap. Only the standard library.
"""
import json
import re
import sys

errors = []


def check(condition, message):
    if not condition:
        errors.append(message)
    return condition


def load(text):
    decoder, i, objects = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return objects
        obj, i = decoder.raw_decode(text, i)
        objects.extend(obj.get("items", [obj]) if obj.get("kind") == "List" else [obj])


def flag(args, name):
    for arg in args:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def main():
    expected_workers = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        dashboard_file = f.read()
    objects = load(sys.stdin.read())
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    name = lambda o: f"{o['kind']}/{o['metadata']['name']}"

    for obj in objects:
        labels = obj["metadata"].get("labels", {})
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                    "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
                    "helm.sh/chart"):
            check(key in labels, f"{name(obj)}: label {key} missing")

    for kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
        check(kind not in by_kind, f"a {kind} restarts a finished run; the run must be Jobs")
    jobs = by_kind.get("Job", [])
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    component_of = lambda job: job["spec"]["template"]["metadata"].get("labels", {}).get(
        "app.kubernetes.io/component")
    servers = [j for j in jobs if component_of(j) == "server"]
    worker_jobs = [j for j in jobs if component_of(j) == "worker"]
    if not (check(len(jobs) == 2, f"expected two Jobs (server, workers), got {len(jobs)}")
            and check(len(servers) == 1, "expected one server Job")
            and check(len(worker_jobs) == 1, "expected one worker Job")):
        return
    server, workers = servers[0], worker_jobs[0]
    server_service, worker_server = None, ""
    check(server["apiVersion"] == "batch/v1" and workers["apiVersion"] == "batch/v1", "Job apiVersion")
    check(server["spec"].get("completions", 1) == 1 and server["spec"].get("parallelism", 1) == 1,
          "the server Job must run exactly one pod")
    check(server["spec"].get("completionMode", "NonIndexed") == "NonIndexed",
          "the server Job must not be Indexed")
    check(workers["spec"].get("completionMode") == "Indexed", "the worker Job is not Indexed")
    check(workers["spec"].get("completions") == expected_workers,
          f"worker completions {workers['spec'].get('completions')} != {expected_workers}")
    check(workers["spec"].get("parallelism") == expected_workers,
          f"worker parallelism {workers['spec'].get('parallelism')} != {expected_workers}")
    for job in (server, workers):
        check(isinstance(job["spec"].get("backoffLimit"), int) and job["spec"]["backoffLimit"] >= 0,
              f"{name(job)}: backoffLimit missing")
        check(job["spec"]["template"]["spec"].get("restartPolicy") == "OnFailure",
              f"{name(job)}: restartPolicy is not OnFailure")
        # The Job controller generates the selector; a manual one must match.
        check(not job["spec"].get("manualSelector") and "selector" not in job["spec"],
              f"{name(job)}: sets its own selector")

    for workload, component in ((server, "server"), (workers, "worker")):
        pod_labels = workload["spec"]["template"]["metadata"]["labels"]
        check(pod_labels.get("app.kubernetes.io/component") == component,
              f"{name(workload)}: pods lack app.kubernetes.io/component: {component}")
        check(workload["metadata"]["labels"].get("app.kubernetes.io/component") == component,
              f"{name(workload)}: lacks app.kubernetes.io/component: {component}")
        pod = workload["spec"]["template"]["spec"]
        check(pod.get("securityContext", {}).get("runAsNonRoot") is True,
              f"{name(workload)}: pod not runAsNonRoot")
        container = pod["containers"][0]
        check(container["image"].rsplit(":", 1)[-1] not in ("", "latest") and ":" in container["image"],
              f"{name(workload)}: image tag not pinned: {container['image']}")
        resources = container.get("resources", {})
        check("requests" in resources and "limits" in resources,
              f"{name(workload)}: resources requests/limits missing")
        args = container["args"]
        check(args[0] == component, f"{name(workload)}: first arg {args[0]!r} != {component}")
        check(flag(args, "--config") == "/etc/anchorage/config.yaml", f"{name(workload)}: --config")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        config_volume = volumes.get(mounts.get("/etc/anchorage", ""), {})
        config_map = config_volume.get("configMap", {}).get("name")
        check(any(c["metadata"]["name"] == config_map for c in by_kind.get("ConfigMap", [])),
              f"{name(workload)}: /etc/anchorage is not a ConfigMap of the release")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        metrics_port = flag(args, "--metrics-port")
        check(metrics_port is not None and ports.get("metrics") == int(metrics_port),
              f"{name(workload)}: --metrics-port {metrics_port} != containerPort metrics {ports.get('metrics')}")
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = container.get(probe, {}).get("httpGet", {})
            check(get.get("path") == path, f"{name(workload)}: {probe} path {get.get('path')} != {path}")
            check(get.get("port") in ("metrics", ports.get("metrics")),
                  f"{name(workload)}: {probe} port {get.get('port')} is not the metrics port")
        # Services selecting these pods.
        fronting = [s for s in services.values() if selects(s["spec"].get("selector"), pod_labels)]
        check(fronting, f"{name(workload)}: no Service selects its pods")
        for service in fronting:
            check(service["metadata"]["labels"].get("app.kubernetes.io/component") == component,
                  f"{name(service)}: component label != {component}")
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                check(target in ports or target in ports.values(),
                      f"{name(service)}: targetPort {target} is no container port of {name(workload)}")
        if component == "server":
            bind = flag(args, "--bind") or ""
            match = re.fullmatch(r"tcp://0\.0\.0\.0:(\d+)", bind)
            check(match and ports.get("zmq") == int(match.group(1)),
                  f"server: --bind {bind} != containerPort zmq {ports.get('zmq')}")
            server_services = [s for s in fronting if any(p["name"] == "zmq" for p in s["spec"]["ports"])]
            check(len(server_services) == 1, "server: expected one Service with a zmq port")
            # Checkpoints, when on: a writable volume at --checkpoint-dir,
            # an emptyDir or a claim the release makes or names.
            checkpoint_dir = flag(args, "--checkpoint-dir")
            if checkpoint_dir is not None:
                mount = next((m for m in container.get("volumeMounts", [])
                              if checkpoint_dir.startswith(m["mountPath"].rstrip("/") + "/")), None)
                check(mount is not None and not mount.get("readOnly"),
                      f"server: --checkpoint-dir {checkpoint_dir} is on no writable volume")
                volume = volumes.get(mount["name"], {}) if mount else {}
                claim = volume.get("persistentVolumeClaim", {}).get("claimName")
                check("emptyDir" in volume or claim is not None,
                      "server: the checkpoint volume is neither an emptyDir nor a claim")
            server_service = server_services[0] if server_services else None
            check(server_service is None or
                  selects(server_service["spec"]["selector"], pod_labels),
                  "server: its Service does not select the server Job's pod template labels")
        else:
            subdomain = pod.get("subdomain")
            headless = services.get(subdomain)
            check(headless is not None, f"worker pods' subdomain {subdomain} is no Service")
            check(headless is None or headless["spec"].get("clusterIP") == "None",
                  "the workers' Service is not headless")
            # The worker id is the completion index: either the env var the
            # Job controller injects, or a variable read from its annotation.
            worker_id = flag(args, "--worker-id") or ""
            env = {e["name"]: e for e in container.get("env", [])}
            match = re.fullmatch(r"\$\((\w+)\)", worker_id)
            variable = match.group(1) if match else None
            if variable == "JOB_COMPLETION_INDEX":
                pass
            elif check(variable is not None, f"worker: --worker-id={worker_id} is no $(VAR)"):
                field = env.get(variable, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                check(field in ("metadata.annotations['batch.kubernetes.io/job-completion-index']",
                                "metadata.labels['batch.kubernetes.io/job-completion-index']"),
                      f"worker: {variable} comes from {field}, not the Job completion index")
            worker_server = flag(args, "--server") or ""

    if server_service:
        zmq = next(p for p in server_service["spec"]["ports"] if p["name"] == "zmq")
        expected = f"tcp://{server_service['metadata']['name']}:{zmq['port']}"
        check(worker_server == expected, f"worker --server {worker_server} != {expected}")

    # The run's config: workers agrees with the worker Job.
    config = next((c["data"]["config.yaml"] for c in by_kind.get("ConfigMap", [])
                   if "config.yaml" in c.get("data", {})), "")
    match = re.search(r"^workers: (\d+)$", config, re.M)
    check(match and int(match.group(1)) == expected_workers, f"config.yaml workers: {match and match.group(1)}")

    for monitor in by_kind.get("ServiceMonitor", []):
        check(monitor["apiVersion"] == "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
        selector = monitor["spec"]["selector"]["matchLabels"]
        selected = [s for s in services.values() if selects(selector, s["metadata"]["labels"])]
        components = sorted(s["metadata"]["labels"].get("app.kubernetes.io/component") for s in selected)
        check(components == ["server", "worker"], f"ServiceMonitor selects {components}")
        for endpoint in monitor["spec"]["endpoints"]:
            sources = {r.get("targetLabel"): r.get("sourceLabels", [])
                       for r in endpoint.get("relabelings", [])}
            check(any("job_completion_index" in label for label in sources.get("worker", [])),
                  f"ServiceMonitor: the worker label does not come from the Job completion index: "
                  f"{sources.get('worker')}")
            for service in selected:
                check(any(p["name"] == endpoint["port"] for p in service["spec"]["ports"]),
                      f"ServiceMonitor port {endpoint['port']} missing on {name(service)}")

    for cm in by_kind.get("ConfigMap", []):
        if "anchorage.json" in cm.get("data", {}):
            check(cm["metadata"]["labels"].get("grafana_dashboard") == "1",
                  "dashboard ConfigMap lacks grafana_dashboard: \"1\"")
            check(cm["data"]["anchorage.json"].strip() == dashboard_file.strip(),
                  "dashboard ConfigMap differs from deploy/grafana/dashboards/anchorage.json")
            check(json.loads(cm["data"]["anchorage.json"]).get("uid") == "anchorage", "dashboard uid")

    tests = [p for p in by_kind.get("Pod", [])
             if p["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"]
    check(len(tests) == 1, "expected one helm test Pod")
    for pod in tests:
        script = " ".join(pod["spec"]["containers"][0].get("args", []) +
                          pod["spec"]["containers"][0].get("command", []))
        check(server_service and f"http://{server_service['metadata']['name']}:" in script
              and "/metrics" in script and "anchorage_build_info" in script,
              "the helm test Pod does not check the server's /metrics for anchorage_build_info")


if __name__ == "__main__":
    main()
    for error in errors:
        print("FAIL:", error)
    if not errors:
        print("manifests ok")
    sys.exit(1 if errors else 0)
