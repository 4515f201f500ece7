#!/usr/bin/env python3
"""Static checks of the Grafana dashboard and the alert rules.

The dashboard has the stable uid "anchorage", a ${datasource} variable
(type datasource, query prometheus) that every panel and query uses, unique
panel ids, and every metric name in its queries and in
deploy/prometheus/rules.yml is one README.md's metrics table lists (for
histograms, the base name of _bucket/_sum/_count).
Usage: dashboard_static_test.py SOURCE_DIR   (standard library only)
"""
import json
import os
import re
import sys


def main():
    src = sys.argv[1]
    errors = []
    with open(os.path.join(src, "deploy/grafana/dashboards/anchorage.json")) as f:
        dashboard = json.load(f)
    with open(os.path.join(src, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(src, "deploy/prometheus/rules.yml")) as f:
        rules = f.read()
    metrics_section = readme.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    known = set(re.findall(r"`(anchorage_[a-z_]+)", metrics_section))
    known |= set(re.findall(r"(anchorage_[a-z_]+)", metrics_section))

    if dashboard.get("uid") != "anchorage":
        errors.append(f"uid is {dashboard.get('uid')!r}, not 'anchorage'")
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource", {})
    if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append("no datasource variable of type datasource querying prometheus")

    ids, exprs = set(), []

    def walk(panels):
        for panel in panels:
            if panel["id"] in ids:
                errors.append(f"duplicate panel id {panel['id']}")
            ids.add(panel["id"])
            walk(panel.get("panels", []))
            if panel["type"] == "row":
                continue
            if panel.get("datasource", {}).get("uid") != "${datasource}":
                errors.append(f"panel {panel['title']!r} does not use ${{datasource}}")
            if not panel.get("targets"):
                errors.append(f"panel {panel['title']!r} has no queries")
            for target in panel.get("targets", []):
                if target.get("datasource", {}).get("uid") != "${datasource}":
                    errors.append(f"panel {panel['title']!r} query {target['refId']} does not use ${{datasource}}")
                exprs.append((panel["title"], target["expr"]))

    walk(dashboard["panels"])
    sources = exprs + [("rules.yml", rules)]
    for title, expr in sources:
        for name in re.findall(r"anchorage_[a-z_]+", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in known and base not in known:
                errors.append(f"{title}: metric {name} is not in README.md's metrics table")
    for error in errors:
        print("FAIL:", error)
    if not errors:
        print(f"ok: {len(ids)} panels, {len(exprs)} queries, metric names all documented")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
