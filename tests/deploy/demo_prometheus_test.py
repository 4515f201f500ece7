#!/usr/bin/env python3
"""`anchorage demo --prometheus --linger` end to end.

Runs a short demo with its local Prometheus, waits for the --linger prompt,
checks that Prometheus scraped the server and both workers (three targets,
samples of anchorage_server_anchor_version), then sends Ctrl-C (SIGINT) and
checks the demo exits 0 and Prometheus is gone. Also checks that without
`prometheus` on PATH the demo exits 1 naming scripts/install-deps.

Usage: demo_prometheus_test.py ANCHORAGE_BINARY
Only the Python standard library; every child is stopped on exit.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request


def http_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


def main():
    binary = os.path.abspath(sys.argv[1])
    demo_flags = ["--workers=2", "--model=softmax", "--epochs=1", "--batch-size=32",
                  "--link-latency=0.03",
                  "--progress-interval=0", "--eval-interval=1",
                  "--eval-examples=1000"]

    missing = subprocess.run([binary, "demo", *demo_flags, "--prometheus"],
                             env={"PATH": "/nonexistent", "TMPDIR": os.environ["TMPDIR"],
                                  "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}, capture_output=True,
                             text=True, timeout=60)
    if missing.returncode != 1 or "scripts/install-deps" not in missing.stderr:
        print(f"FAIL: without prometheus: rc {missing.returncode}, stderr {missing.stderr!r}")
        return 1

    output = tempfile.TemporaryFile(mode="w+")
    demo = subprocess.Popen([binary, "demo", *demo_flags, "--prometheus", "--linger"],
                            stdout=output, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        def text():
            output.seek(0)
            return output.read()

        deadline = time.monotonic() + 120
        while "Ctrl-C to stop" not in text():
            if demo.poll() is not None or time.monotonic() > deadline:
                print("FAIL: no --linger prompt; output:\n" + text())
                return 1
            time.sleep(0.2)
        out = text()
        url = re.search(r"Prometheus keeps serving the run at (http://127\.0\.0\.1:\d+)", out).group(1)
        if "test accuracy" not in out:
            print("FAIL: no summary before the --linger prompt:\n" + out)
            return 1
        targets = http_json(url + "/api/v1/targets")["data"]["activeTargets"]
        roles = sorted(t["labels"].get("role", "") + t["labels"].get("worker", "") for t in targets)
        if roles != ["server", "worker0", "worker1"]:
            print(f"FAIL: targets {roles}")
            return 1
        query = urllib.parse.urlencode({"query": "max(max_over_time(anchorage_server_anchor_version[10m]))"})
        result = http_json(url + "/api/v1/query?" + query)["data"]["result"]
        if not result or float(result[0]["value"][1]) <= 0:
            print(f"FAIL: no anchor version samples in Prometheus: {result}")
            return 1
        prometheus_pid = None
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    continue
                if ppid == demo.pid:
                    prometheus_pid = int(pid)
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=30)
        if code != 0:
            print(f"FAIL: demo exited {code} after Ctrl-C:\n" + text())
            return 1
        if prometheus_pid is not None and os.path.exists(f"/proc/{prometheus_pid}"):
            with open(f"/proc/{prometheus_pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    print("FAIL: prometheus still runs after the demo ended")
                    return 1
        print("ok: demo --prometheus --linger scraped 3 targets and stopped cleanly")
        return 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # The demo keeps its logs in a fresh directory under TMPDIR, and its
    # dataset cache under XDG_CACHE_HOME: keep both in one that goes with
    # the test.
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["TMPDIR"] = scratch
        os.environ["XDG_CACHE_HOME"] = scratch
        sys.exit(main())
