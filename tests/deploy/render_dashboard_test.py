#!/usr/bin/env python3
"""Keeps tests/deploy/render_dashboard.py working without a real Prometheus.

Starts a tiny fake Prometheus (http.server on a free loopback port) whose
/api/v1/query_range answers every query with canned series (two per query,
with the labels the dashboard's legends use, le buckets for histogram
queries), renders the dashboard with --start/--end auto, and checks that the
SVG parses, has every panel's title, lines, a stat value and heatmap cells,
and that no $__ variable reached the queries.
Usage: render_dashboard_test.py SOURCE_DIR
"""
import http.server
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import xml.etree.ElementTree as ET

queries = []


class FakePrometheus(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        if url.path != "/api/v1/query_range":
            self.send_error(404)
            return
        expr, start, end = params["query"], float(params["start"]), float(params["end"])
        step = float(params["step"])
        queries.append(expr)
        if "$" in expr:
            body = {"status": "error", "errorType": "bad_data", "error": f"unsubstituted: {expr}"}
            self.reply(400, body)
            return
        times = [start + i * step for i in range(int((end - start) / step) + 1)]
        if "by (le)" in expr and "_bucket" in expr:
            metrics = [{"le": le} for le in ("1", "2", "4", "8", "+Inf")]
            values = lambda k, t: 10 * (k + 1) + 3 * math.sin(t / 7)
        else:
            metrics = [{"instance": "127.0.0.1:9101", "worker": str(k), "outcome": "applied",
                        "direction": "tx", "reason": "none", "version": "0.1.0"} for k in range(2)]
            values = lambda k, t: 0.5 + 0.4 * math.sin(t / 5 + k)
        result = [{"metric": m, "values": [[t, repr(values(k, t))] for t in times]}
                  for k, m in enumerate(metrics)]
        self.reply(200, {"status": "success", "data": {"resultType": "matrix", "result": result}})

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    source = os.path.abspath(sys.argv[1])
    dashboard_path = os.path.join(source, "deploy/grafana/dashboards/anchorage.json")
    script = os.path.join(source, "tests/deploy/render_dashboard.py")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakePrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    errors = []
    with tempfile.TemporaryDirectory(prefix="anchorage-render-test-") as work:
        out = os.path.join(work, "dashboard.svg")
        run = subprocess.run([sys.executable, script, "--prometheus",
                              f"http://127.0.0.1:{server.server_address[1]}",
                              "--dashboard", dashboard_path, "--lookback", "120", "--out", out],
                             capture_output=True, text=True, timeout=120)
        server.shutdown()
        print(run.stdout + run.stderr, end="")
        if run.returncode != 0:
            errors.append(f"render_dashboard.py exited {run.returncode}")
        if not os.path.exists(out):
            errors.append("no SVG written")
        else:
            with open(out) as f:
                text = f.read()
            try:
                root = ET.fromstring(text)
            except ET.ParseError as e:
                root = None
                errors.append(f"the SVG does not parse: {e}")
            if root is not None:
                ns = "{http://www.w3.org/2000/svg}"
                texts = {"".join(t.itertext()) for t in root.iter(ns + "text")}
                with open(dashboard_path) as f:
                    panels = json.load(f)["panels"]
                for panel in panels:
                    if panel["title"] not in texts and not any(t.startswith(panel["title"][:20]) for t in texts):
                        errors.append(f"panel title {panel['title']!r} missing")
                paths = list(root.iter(ns + "path"))
                timeseries = [p for p in panels if p["type"] == "timeseries"]
                if len(paths) < len(timeseries):
                    errors.append(f"{len(paths)} lines for {len(timeseries)} time-series panels")
                if not any(t.endswith("%") for t in texts):
                    errors.append("no percentage (the Test accuracy stat) in the SVG")
                if "No data" in texts:
                    errors.append("a panel says No data although every query returned series")
                if len(list(root.iter(ns + "rect"))) < len(panels) + 20:
                    errors.append("too few rects: heatmap cells missing?")
            # The README's PNG pipeline: rsvg-convert, then png_palette.py.
            if shutil.which("rsvg-convert") and os.path.exists(out):
                png, small = os.path.join(work, "full.png"), os.path.join(work, "small.png")
                subprocess.run(["rsvg-convert", out, "-o", png], check=True, timeout=60)
                subprocess.run([sys.executable, os.path.join(source, "tests/deploy/png_palette.py"),
                                png, small], check=True, timeout=120, stdout=subprocess.DEVNULL)
                with open(small, "rb") as f:
                    head = f.read(26)
                if head[:8] != b"\x89PNG\r\n\x1a\n" or head[24:26] != bytes([8, 3]):
                    errors.append("png_palette.py did not write an 8-bit palette PNG")
                elif os.path.getsize(small) >= os.path.getsize(png):
                    errors.append("png_palette.py did not shrink the PNG")
    expected = sum(1 for p in panels for t in p.get("targets", []) if t.get("expr"))
    if len(queries) < expected + 1:
        errors.append(f"only {len(queries)} queries for {expected} panel targets (+1 for auto range)")
    for error in errors:
        print("FAIL:", error)
    if not errors:
        print(f"ok: rendered {len(panels)} panels from {len(queries)} fake query_range answers")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
