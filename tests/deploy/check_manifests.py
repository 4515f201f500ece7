#!/usr/bin/env python3
"""Checks the manifests `helm template` renders from helm/anchorage.

Input: a stream of JSON objects (helm template | kubectl label --local -o json,
which parses YAML offline), on stdin. Usage:
  check_manifests.py EXPECTED_WORKERS DASHBOARD_JSON [FEATURE...] < objects.json
FEATUREs (curve, network-policy) are the opt-in features the manifests must
have; those not listed must be absent (a ci/*-values.yaml lists its own on a
"# features:" line).
Checks the run's shape (the server a one-pod Job, or with --shards S an
Indexed Job of S pods whose completion index is the shard, reached by the
workers' --servers under its headless Service; the workers an Indexed Job
with completions = parallelism = workers, both restartPolicy OnFailure with a
backoffLimit, no Deployment/StatefulSet that would restart a finished run,
the worker id taken from the completion index), standard labels, that
Services select the pods they front (the server Service the server Job's
pod template labels), that the workers' pod subdomain is their headless
Service, that container ports match the --bind/--metrics-port flags the
binaries get, that probes use the metrics port, that workers reach the
server through its Service DNS name, and the optional ServiceMonitor and
dashboard ConfigMap. With CURVE: both roles run with it, each mounts only
the keys it needs from one Secret (the server its secret key and every
worker's public key, never a worker's secret key; a worker the server's
public key and the worker secret keys, never server.secret), not readable
by others, and the key flags point at those files. With NetworkPolicies:
server and worker pods deny all other ingress; the server's ZeroMQ port is
open only to this release's workers, the metrics port only to Prometheus
(and the helm test pod on the server). Only the standard library.
"""
import json
import posixpath
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


FEATURES = ("curve", "network-policy")
CURVE_FLAGS = ("--curve-secret-key", "--curve-allowed-keys", "--curve-server-key")


def label_selector_matches(selector, labels):
    """A metav1.LabelSelector: {} selects everything."""
    if not all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if not {"In": present and labels.get(key) in values,
                "NotIn": not present or labels.get(key) not in values,
                "Exists": present, "DoesNotExist": not present}.get(operator, False):
            return False
    return True


def pod_of(job):
    return job["spec"]["template"]["spec"]


def check_curve(server, workers, expected_workers, expected):
    """CURVE: on for both roles or neither; the right keys, and only those."""
    roles = (("server", server), ("worker", workers))
    on = {role: any(flag(pod_of(job)["containers"][0]["args"], f) is not None for f in CURVE_FLAGS)
          for role, job in roles}
    check(on["server"] == on["worker"],
          f"CURVE flags on the server: {on['server']}, on the workers: {on['worker']}; both or neither")
    check(any(on.values()) == expected,
          "CURVE flags are rendered, but the variant does not list the curve feature" if any(on.values())
          else "the curve feature is expected, but no CURVE flags are rendered")
    if not any(on.values()):
        return
    secrets = set()
    for role, job in roles:
        pod = pod_of(job)
        container = pod["containers"][0]
        args = container["args"]
        wanted, unwanted = (("--curve-secret-key", "--curve-allowed-keys"), "--curve-server-key") \
            if role == "server" else (("--curve-secret-key", "--curve-server-key"), "--curve-allowed-keys")
        if not all(check(flag(args, f) is not None, f"{role}: CURVE without {f}") for f in wanted):
            continue
        check(flag(args, unwanted) is None, f"{role}: {unwanted} is the other role's flag")
        key_dir = posixpath.dirname(flag(args, "--curve-secret-key"))
        mount = next((m for m in container.get("volumeMounts", [])
                      if m["mountPath"].rstrip("/") == key_dir), None)
        if not check(mount is not None, f"{role}: no volume is mounted at the key directory {key_dir}"):
            continue
        check(mount.get("readOnly") is True, f"{role}: the CURVE keys are mounted writable")
        check("subPath" not in mount, f"{role}: the CURVE keys are mounted with a subPath")
        volume = next((v for v in pod.get("volumes", []) if v["name"] == mount["name"]), {})
        secret = volume.get("secret")
        if not check(secret is not None, f"{role}: the CURVE keys are not a Secret volume"):
            continue
        secrets.add(secret.get("secretName"))
        check(not secret.get("optional"), f"{role}: the CURVE Secret is optional (a run without keys)")
        items = secret.get("items", [])
        check(items, f"{role}: the CURVE Secret is mounted whole (no items), with keys it must not see")
        keys = {item["key"] for item in items}
        check(all(item["path"] == item["key"] for item in items),
              f"{role}: CURVE items renamed; the binaries read the keygen file names")
        for mode in [secret.get("defaultMode", 0o644)] + [i["mode"] for i in items if "mode" in i]:
            check(mode & 0o007 == 0, f"{role}: CURVE key mode {mode:#o} is readable by others")
            check(mode & 0o022 == 0, f"{role}: CURVE key mode {mode:#o} is writable by group or others")
            # Secret files are root's: a non-root user reads them through
            # the group the kubelet gives them, fsGroup.
            check(mode & 0o040 and pod.get("securityContext", {}).get("fsGroup") is not None,
                  f"{role}: CURVE key mode {mode:#o} without group read and an fsGroup is unreadable "
                  "to the non-root container")
        publics = {f"worker-{i}.pub" for i in range(expected_workers)}
        worker_secrets = {f"worker-{i}.secret" for i in range(expected_workers)}
        if role == "server":
            expected_keys = {"server.secret"} | publics
            check(not keys & worker_secrets and not any(k.startswith("worker-") and k.endswith(".secret")
                                                          for k in keys),
                  f"server: mounts a worker's secret key: {sorted(k for k in keys if k.endswith('.secret'))}")
            check(flag(args, "--curve-secret-key") == f"{key_dir}/server.secret",
                  f"server: --curve-secret-key {flag(args, '--curve-secret-key')} is not server.secret")
            check(flag(args, "--curve-allowed-keys").rstrip("/") == key_dir,
                  f"server: --curve-allowed-keys {flag(args, '--curve-allowed-keys')} != {key_dir}, "
                  "where the worker-<i>.pub keys are")
        else:
            expected_keys = {"server.pub"} | worker_secrets
            check("server.secret" not in keys, "worker: mounts the server's secret key server.secret")
            worker_id = flag(args, "--worker-id")
            check(flag(args, "--curve-secret-key") == f"{key_dir}/worker-{worker_id}.secret",
                  f"worker: --curve-secret-key {flag(args, '--curve-secret-key')} is not "
                  f"worker-{worker_id}.secret (the worker's own key, by --worker-id)")
            check(flag(args, "--curve-server-key") == f"{key_dir}/server.pub",
                  f"worker: --curve-server-key {flag(args, '--curve-server-key')} != {key_dir}/server.pub")
        check(keys == expected_keys,
              f"{role}: CURVE items missing {sorted(expected_keys - keys)}, extra {sorted(keys - expected_keys)}")
    check(len(secrets) == 1 and None not in secrets,
          f"server and workers must mount one CURVE Secret, got {sorted(map(str, secrets))}")


def check_network_policies(policies, server, workers, test_pods, expected):
    """NetworkPolicies: only the run's own traffic reaches its pods."""
    check(bool(policies) == expected,
          "NetworkPolicies are rendered, but the variant does not list the network-policy feature"
          if policies else "the network-policy feature is expected, but no NetworkPolicy is rendered")
    if not policies:
        return
    label = lambda o: f"NetworkPolicy/{o['metadata']['name']}"
    for policy in policies:
        check(policy["apiVersion"] == "networking.k8s.io/v1", f"{label(policy)}: apiVersion")
        check("Ingress" in policy["spec"].get("policyTypes", []),
              f"{label(policy)}: policyTypes {policy['spec'].get('policyTypes')} lack Ingress")
        check(policy["spec"].get("podSelector", {}).get("matchLabels"),
              f"{label(policy)}: no podSelector.matchLabels (it would govern every pod of the namespace)")
    args = lambda job: pod_of(job)["containers"][0]["args"]
    zmq = int(re.fullmatch(r"tcp://0\.0\.0\.0:(\d+)", flag(args(server), "--bind") or "tcp://0.0.0.0:0").group(1))
    metrics = int(flag(args(server), "--metrics-port") or 0)
    labels = lambda job: job["spec"]["template"]["metadata"]["labels"]
    release = {k: labels(server).get(k) for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}
    own_pods = [labels(server), labels(workers)]
    is_release_peer = lambda peer, component: (
        "namespaceSelector" not in peer and "ipBlock" not in peer and "podSelector" in peer
        and all(peer["podSelector"].get("matchLabels", {}).get(k) == v
                for k, v in dict(release, **{"app.kubernetes.io/component": component}).items()))
    prometheus_peers = {}
    for role, job in (("server", server), ("worker", workers)):
        governing = [p for p in policies if label_selector_matches(p["spec"].get("podSelector", {}), labels(job))
                     and "Ingress" in p["spec"].get("policyTypes", [])]
        if not check(governing, f"{role}: no NetworkPolicy restricts its pods' ingress"):
            continue
        rules = [rule for p in governing for rule in p["spec"].get("ingress", [])]
        ports = set()
        for rule in rules:
            peers, rule_ports = rule.get("from"), rule.get("ports")
            check(peers, f"{role}: an ingress rule without from admits every source")
            check(rule_ports, f"{role}: an ingress rule without ports admits every port")
            rule_ports = [p.get("port") for p in rule_ports or []]
            check(all(isinstance(p, int) and "endPort" not in r for p, r in zip(rule_ports, rule.get("ports", []))),
                  f"{role}: ingress ports {rule_ports} are not single numbers")
            ports.update(rule_ports)
            for peer in peers or []:
                check("ipBlock" not in peer, f"{role}: an ingress rule admits an ipBlock {peer.get('ipBlock')}")
                if zmq in rule_ports:
                    check(role == "server" and is_release_peer(peer, "worker"),
                          f"{role}: ZeroMQ port {zmq} admits {peer}, not only this release's worker pods")
                elif metrics in rule_ports:
                    if role == "server" and is_release_peer(peer, "test"):
                        continue
                    selector = peer.get("podSelector")
                    check(selector and (selector.get("matchLabels") or selector.get("matchExpressions")),
                          f"{role}: metrics port admits {peer}: every pod, not Prometheus")
                    check(selector is None or not any(label_selector_matches(selector, own) for own in own_pods),
                          f"{role}: the metrics port's Prometheus peer {peer} selects the run's own pods")
                    prometheus_peers.setdefault(role, []).append(json.dumps(peer, sort_keys=True))
        wanted = {zmq, metrics} if role == "server" else {metrics}
        check(ports == wanted, f"{role}: ingress admits ports {sorted(ports)}, want {sorted(wanted)}")
        check(prometheus_peers.get(role), f"{role}: no Prometheus peer may reach the metrics port")
    check(sorted(prometheus_peers.get("server", [])) == sorted(prometheus_peers.get("worker", [])),
          f"server and workers admit different Prometheus peers: {prometheus_peers}")
    # `helm test` curls the server's /metrics: its pod must get through.
    for pod in test_pods:
        check(any(is_release_peer(peer, "test")
                  and label_selector_matches(peer["podSelector"], pod["metadata"].get("labels", {}))
                  for p in policies if label_selector_matches(p["spec"]["podSelector"], labels(server))
                  for rule in p["spec"].get("ingress", [])
                  if metrics in [q.get("port") for q in rule.get("ports", [])]
                  for peer in rule.get("from", [])),
              "NetworkPolicy: the helm test pod cannot reach the server's metrics port")


def completion_index_variable(value, container):
    """Whether `value` is $(VAR) of the Job completion index: the env var the
    Job controller injects, or a variable read from its annotation."""
    match = re.fullmatch(r"\$\((\w+)\)", value)
    variable = match.group(1) if match else None
    if variable == "JOB_COMPLETION_INDEX":
        return True
    env = {e["name"]: e for e in container.get("env", [])}
    field = env.get(variable, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    return field in ("metadata.annotations['batch.kubernetes.io/job-completion-index']",
                     "metadata.labels['batch.kubernetes.io/job-completion-index']")


def main():
    expected_workers = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        dashboard_file = f.read()
    features = set(sys.argv[3:])
    if not features <= set(FEATURES):
        sys.exit(f"unknown features {sorted(features - set(FEATURES))}; known: {', '.join(FEATURES)}")
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
    server_service, worker_server, worker_servers = None, "", ""
    check(server["apiVersion"] == "batch/v1" and workers["apiVersion"] == "batch/v1", "Job apiVersion")
    server_args = server["spec"]["template"]["spec"]["containers"][0]["args"]
    shards = int(flag(server_args, "--shards") or 1)
    if shards == 1:
        check(server["spec"].get("completions", 1) == 1 and server["spec"].get("parallelism", 1) == 1,
              "the server Job must run exactly one pod")
        check(server["spec"].get("completionMode", "NonIndexed") == "NonIndexed",
              "the server Job must not be Indexed")
    else:
        check(server["spec"].get("completionMode") == "Indexed", "the sharded server Job is not Indexed")
        check(server["spec"].get("completions") == shards and server["spec"].get("parallelism") == shards,
              f"the sharded server Job must run one pod per shard ({shards})")
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
            if shards > 1:
                check(completion_index_variable(flag(args, "--shard") or "", container),
                      f"server: --shard={flag(args, '--shard')} is not the Job completion index")
                subdomain = pod.get("subdomain")
                check(server_services and subdomain == server_services[0]["metadata"]["name"]
                      and server_services[0]["spec"].get("clusterIP") == "None",
                      f"sharded server pods' subdomain {subdomain} is not their headless Service")
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
            worker_id = flag(args, "--worker-id") or ""
            check(completion_index_variable(worker_id, container),
                  f"worker: --worker-id={worker_id} is not the Job completion index")
            worker_server = flag(args, "--server") or ""
            worker_servers = flag(args, "--servers") or ""

    if server_service and shards == 1:
        zmq = next(p for p in server_service["spec"]["ports"] if p["name"] == "zmq")
        expected = f"tcp://{server_service['metadata']['name']}:{zmq['port']}"
        check(worker_server == expected, f"worker --server {worker_server} != {expected}")
    elif server_service:
        # Shard i is pod <job>-<i> under the headless Service, shard 0 first.
        zmq = next(p for p in server_service["spec"]["ports"] if p["name"] == "zmq")
        expected = ",".join(f"tcp://{server['metadata']['name']}-{i}.{server_service['metadata']['name']}:"
                            f"{zmq['port']}" for i in range(shards))
        check(worker_servers == expected, f"worker --servers {worker_servers} != {expected}")

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

    check_curve(server, workers, expected_workers, "curve" in features)
    check_network_policies(by_kind.get("NetworkPolicy", []), server, workers, tests,
                           "network-policy" in features)


if __name__ == "__main__":
    main()
    for error in errors:
        print("FAIL:", error)
    if not errors:
        print("manifests ok")
    sys.exit(1 if errors else 0)
