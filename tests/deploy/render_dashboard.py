#!/usr/bin/env python3
"""Renders the Grafana dashboard's panels with real data as one SVG.

No Grafana needed: every panel query of the dashboard JSON is run through
Prometheus' /api/v1/query_range (with $__rate_interval, $__interval,
$__range and ${datasource} substituted as dashboard_queries_test.py does),
and the results are drawn at the panels' gridPos (24 columns, 30 px per grid
row): rows as section titles, time series as lines with a legend of the
series names (the targets' legendFormat), the last value of stat panels, the
staleness heatmap as coloured buckets, with y-axis and time ticks.

Usage:
  render_dashboard.py --prometheus http://127.0.0.1:9090 \
      --dashboard deploy/grafana/dashboards/anchorage.json \
      [--start auto|now-15m|UNIX] [--end auto|now|UNIX] [--step 1] \
      [--rate-interval 5s] [--width 1600] --out dashboard.svg

--start/--end auto (the default) use the span in which
anchorage_server_anchor_version has samples within the last --lookback
(default 1h), so a finished run (e.g. `anchorage demo --prometheus
--linger`) is rendered without blank space. Only the Python standard
library.
"""
import argparse
import html
import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

GRID_COLUMNS = 24
ROW_PX = 30
GAP = 6
PALETTE = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2",
           "#b877d9", "#fade2a", "#56a64b", "#e0b400", "#3274d9", "#a352cc",
           "#ff9830", "#c4162a", "#96d98d", "#ffb357"]
BG, PANEL_BG, BORDER = "#111217", "#181b1f", "#2c3235"
TEXT, DIM, GRID = "#ccccdc", "#8e8e9c", "#2a2d33"
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


# --------------------------------------------------------------- Prometheus
def fetch(base, path, params):
    url = base.rstrip("/") + path + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.loads(response.read().decode())
    except urllib.error.HTTPError as e:
        body = json.loads(e.read().decode() or "{}")
    if body.get("status") != "success":
        raise RuntimeError(f"{params.get('query')}: {body.get('errorType')}: {body.get('error')}")
    return body["data"]


def query_range(base, expr, start, end, step):
    data = fetch(base, "/api/v1/query_range",
                 {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": step})
    series = []
    for result in data.get("result", []):
        points = []
        for t, v in result.get("values", []):
            try:
                value = float(v)
            except ValueError:
                continue
            points.append((float(t), value if math.isfinite(value) else None))
        series.append((result.get("metric", {}), points))
    return series


def parse_time(text, now):
    if text in ("now", ""):
        return now
    match = re.fullmatch(r"now-(\d+)([smhd])", text)
    if match:
        return now - int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return float(text)


def auto_range(base, now, lookback, step):
    series = query_range(base, "max(anchorage_server_anchor_version)", now - lookback, now, step)
    times = [t for _, points in series for t, v in points if v is not None]
    if not times:
        raise RuntimeError("no anchorage_server_anchor_version samples in the last "
                           f"{lookback} s; pass --start/--end")
    return min(times), max(times)


def substitute(expr, rate_interval, step, span):
    for name in ("$__rate_interval", "${__rate_interval}"):
        expr = expr.replace(name, rate_interval)
    for name in ("$__interval", "${__interval}"):
        expr = expr.replace(name, f"{max(1, int(step))}s")
    for name in ("$__range", "${__range}"):
        expr = expr.replace(name, f"{max(1, int(span))}s")
    expr = expr.replace("$shard", ".*")  # the shard filter at All
    return expr.replace("${datasource}", "prometheus").replace("$datasource", "prometheus")


def legend(fmt, metric):
    if fmt:
        name = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)
        return " ".join(name.split()) or fmt
    labels = {k: v for k, v in metric.items() if k != "__name__"}
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return (metric.get("__name__", "") + "{" + inner + "}") if inner else metric.get("__name__", "value")


# ----------------------------------------------------------------- formats
def si(value, digits=3):
    if value is None:
        return "–"
    a = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= limit:
            return num(value / limit, digits) + suffix
    return num(value, digits)


def num(value, digits=3):
    """value with `digits` significant digits, fixed-point, no trailing zeros."""
    a = abs(value)
    if a == 0:
        return "0"
    if a < 1e-3:
        return f"{value:.2e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(a)))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_value(value, unit, digits=3):
    if value is None:
        return "–"
    if unit == "percentunit":
        return f"{value * 100:.{max(1, digits - 2)}f}%"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "s":
        a = abs(value)
        if a == 0:
            return "0 s"
        if a < 1e-3:
            return f"{num(value * 1e6, digits)} µs"
        if a < 1:
            return f"{num(value * 1e3, digits)} ms"
        return f"{num(value, digits)} s"
    if unit == "Bps":
        return si(value, digits) + "B/s"
    if unit == "bytes":
        return si(value, digits) + "B"
    if unit == "reqps":
        return si(value, digits) + "/s"
    return si(value, digits)


def tick_digits(ticks):
    """Significant digits that tell adjacent ticks apart."""
    if len(ticks) < 2:
        return 3
    step = abs(ticks[1] - ticks[0]) or 1
    top = max(abs(t) for t in ticks) or 1
    return max(2, min(6, int(math.floor(math.log10(top)) - math.floor(math.log10(step))) + 1))


def nice_ticks(lo, hi, count=4):
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    last = math.ceil(hi / step) * step
    ticks, t = [], first
    while t <= last + step / 2:
        ticks.append(round(t, 12))
        t += step
    return ticks


def time_ticks(start, end, count=5):
    span = max(end - start, 1)
    step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
                if span / s <= count) if span / 86400 <= count else 86400
    t = math.ceil(start / step) * step
    ticks = []
    while t <= end:
        ticks.append(t)
        t += step
    return ticks, ("%H:%M:%S" if step < 60 else "%H:%M")


# -------------------------------------------------------------------- SVG
class Svg:
    def __init__(self):
        self.parts = []

    def add(self, text):
        self.parts.append(text)

    def text(self, x, y, s, size=12, fill=TEXT, anchor="start", weight="normal"):
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
                 f'text-anchor="{anchor}" font-weight="{weight}">{html.escape(str(s))}</text>')

    def rect(self, x, y, w, h, fill, stroke="none", rx=0, extra=""):
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
                 f'fill="{fill}" stroke="{stroke}" rx="{rx}"{extra}/>')

    def line(self, x1, y1, x2, y2, stroke=GRID, width=1, extra=""):
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{stroke}" stroke-width="{width}"{extra}/>')


def clip_text(s, px, size):
    limit = max(3, int(px / (size * 0.58)))
    return s if len(s) <= limit else s[:limit - 1] + "…"


def layout_legend(names, width, size=11):
    """Places legend entries left to right, wrapping; returns [(x, row, name)], rows."""
    x, row, placed = 0.0, 0, []
    for name in names:
        w = 16 + len(name) * size * 0.62 + 14
        if x > 0 and x + w > width:
            x, row = 0.0, row + 1
        placed.append((x, row, name))
        x += w
    return placed, (row + 1 if names else 0)


def override(panel, name, prop):
    value = None
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        matcher = o.get("matcher", {})
        hit = (matcher.get("id") == "byName" and matcher.get("options") == name) or \
              (matcher.get("id") == "byRegexp" and re.fullmatch(matcher.get("options", ""), name))
        if hit:
            for p in o.get("properties", []):
                if p.get("id") == prop:
                    value = p.get("value")
    return value


def draw_timeseries(svg, panel, series, x, y, w, h, start, end):
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    left_pad, right_pad = 58, 12
    for s in series:
        s["axis"] = override(panel, s["name"], "custom.axisPlacement") or "left"
        s["unit"] = override(panel, s["name"], "unit") or defaults.get("unit", "")
    has_right = any(s["axis"] == "right" for s in series) and any(s["axis"] != "right" for s in series)
    for s in series:
        s["label"] = s["name"] + (" (right axis)" if has_right and s["axis"] == "right" else "")
    names = [s["label"] for s in series]
    # Legend at the bottom (max 3 rows; the rest summarised).
    placed, rows = layout_legend(names, w - 16)
    shown_rows = min(rows, 3)
    legend_h = shown_rows * 15 + (4 if rows else 0)
    if has_right:
        right_pad = 58
    px0, px1 = x + left_pad, x + w - right_pad
    py0, py1 = y + 30, y + h - 22 - legend_h
    if px1 - px0 < 20 or py1 - py0 < 20:
        return
    # Y scales (left and right).
    scales = {}
    for axis in ("left", "right"):
        members = [s for s in series if (s["axis"] == "right") == (axis == "right" and has_right)]
        values = [v for s in members for _, v in s["points"] if v is not None]
        if not members or (axis == "right" and not has_right):
            continue
        lo = min(values) if values else 0.0
        hi = max(values) if values else 1.0
        if "min" in defaults:
            lo = defaults["min"]
        elif lo > 0 and (hi - lo) > 0.3 * hi:
            lo = 0.0
        if "max" in defaults:
            hi = defaults["max"]
        if hi == lo:
            lo, hi = (0.0, 2 * hi) if hi > 0 else (2 * lo, 0.0) if lo < 0 else (0.0, 1.0)
        ticks = nice_ticks(lo, hi)
        scales[axis] = (ticks[0], ticks[-1], ticks, members[0]["unit"])
    # Grid, axes and ticks.
    for axis, (lo, hi, ticks, unit) in scales.items():
        digits = tick_digits(ticks)
        for t in ticks:
            ty = py1 - (t - lo) / (hi - lo) * (py1 - py0)
            if axis == "left":
                svg.line(px0, ty, px1, ty, GRID)
                svg.text(px0 - 5, ty + 4, fmt_value(t, unit, digits), 10, DIM, "end")
            else:
                svg.text(px1 + 5, ty + 4, fmt_value(t, unit, digits), 10, DIM, "start")
    ticks, fmt = time_ticks(start, end)
    for t in ticks:
        tx = px0 + (t - start) / max(end - start, 1) * (px1 - px0)
        svg.line(tx, py0, tx, py1, GRID)
        svg.text(tx, py1 + 14, time.strftime(fmt, time.gmtime(t)), 10, DIM, "middle")
    svg.line(px0, py1, px1, py1, "#464c54")
    # Lines (gaps where a value is missing or the step jumps).
    for s in series:
        lo, hi, _, _ = scales["right" if (s["axis"] == "right" and has_right) else "left"]
        path, pen_up, last_t = [], True, None
        for t, v in s["points"]:
            if v is None or (last_t is not None and t - last_t > 3 * s["step"]):
                pen_up = True
            if v is None:
                last_t = t
                continue
            sx = px0 + (t - start) / max(end - start, 1) * (px1 - px0)
            sy = py1 - (min(max(v, lo), hi) - lo) / (hi - lo) * (py1 - py0)
            path.append(f"{'M' if pen_up else 'L'}{sx:.1f},{sy:.1f}")
            pen_up, last_t = False, t
        if path:
            dash = ' stroke-dasharray="5,3"' if s["axis"] == "right" and has_right else ""
            svg.add(f'<path d="{" ".join(path)}" fill="none" stroke="{s["color"]}" '
                    f'stroke-width="1.6" stroke-linejoin="round"{dash}/>')
    if not any(v is not None for s in series for _, v in s["points"]):
        svg.text((px0 + px1) / 2, (py0 + py1) / 2, "No data", 14, DIM, "middle")
    # Legend.
    ly = py1 + 22
    for lx, row, name in placed:
        if row >= shown_rows:
            break
        s = series[names.index(name)]
        yy = ly + row * 15
        svg.rect(x + 8 + lx, yy + 2, 12, 4, s["color"], rx=1)
        svg.text(x + 8 + lx + 16, yy + 8, clip_text(name, w - lx - 30, 11), 11, TEXT)
    hidden = sum(1 for _, row, _ in placed if row >= shown_rows)
    if hidden:
        svg.text(x + w - 8, ly + (shown_rows - 1) * 15 + 8, f"+{hidden} more", 11, DIM, "end")


def draw_stat(svg, panel, series, x, y, w, h):
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    values = []
    for s in series:
        last = next((v for _, v in reversed(s["points"]) if v is not None), None)
        values.append((s["name"], last, s["color"]))
    if not values:
        svg.text(x + w / 2, y + h / 2 + 8, "No data", 16, DIM, "middle")
        return
    n = len(values)
    cell = (w - 16) / n
    big = max(14, min(44, int((h - 40) * 0.55), int(cell / 4.5)))
    for i, (name, value, color) in enumerate(values):
        cx = x + 8 + cell * (i + 0.5)
        text = fmt_value(value, unit, 4)
        size = big if len(text) <= 6 else max(14, int(big * 6 / len(text)))
        svg.text(cx, y + 30 + (h - 30) / 2 + size / 3 - 6, text, size, color, "middle", "bold")
        svg.text(cx, y + h - 10, clip_text(name, cell - 6, 11), 11, DIM, "middle")


def heat_color(f):
    # Dark blue → orange → yellow, like Grafana's "Oranges"/spectral scheme.
    stops = [(0.0, (24, 27, 31)), (0.25, (55, 28, 80)), (0.55, (196, 62, 40)),
             (0.8, (255, 152, 48)), (1.0, (250, 222, 42))]
    for (f0, c0), (f1, c1) in zip(stops, stops[1:]):
        if f <= f1:
            k = (f - f0) / (f1 - f0) if f1 > f0 else 0
            return "#%02x%02x%02x" % tuple(int(a + (b - a) * k) for a, b in zip(c0, c1))
    return "#fade2a"


def draw_heatmap(svg, panel, series, x, y, w, h, start, end, step):
    def bound(s):
        le = s["metric"].get("le", "+Inf")
        return math.inf if le in ("+Inf", "Inf") else float(le)

    buckets = sorted((s for s in series if "le" in s["metric"]), key=bound)
    if not buckets:
        draw_timeseries(svg, panel, series, x, y, w, h, start, end)
        return
    px0, px1, py0, py1 = x + 58, x + w - 12, y + 30, y + h - 40
    times = sorted({t for s in buckets for t, _ in s["points"]})
    values = [dict(s["points"]) for s in buckets]
    cells, peak = [], 0.0
    for t in times:
        previous = 0.0
        for i, s in enumerate(buckets):
            cumulative = values[i].get(t)
            if cumulative is None:
                continue
            count = max(0.0, cumulative - previous)
            previous = cumulative
            cells.append((t, i, count))
            peak = max(peak, count)
    rows = len(buckets)
    row_h = (py1 - py0) / rows
    col_w = max(1.0, (px1 - px0) * step / max(end - start, 1))
    for t, i, count in cells:
        if count <= 0:
            continue
        cx = px0 + (t - start) / max(end - start, 1) * (px1 - px0) - col_w / 2
        cy = py1 - (i + 1) * row_h
        svg.rect(max(cx, px0), cy + 0.5, min(col_w + 0.4, px1 - max(cx, px0)), row_h - 1,
                 heat_color(math.sqrt(count / peak) if peak else 0))
    label_every = max(1, math.ceil(rows / max(1, (py1 - py0) // 14)))
    for i, s in enumerate(buckets):
        if i % label_every == 0:
            svg.text(px0 - 5, py1 - (i + 0.5) * row_h + 4, "≤" + s["metric"]["le"], 10, DIM, "end")
    ticks, fmt = time_ticks(start, end)
    for t in ticks:
        tx = px0 + (t - start) / max(end - start, 1) * (px1 - px0)
        svg.text(tx, py1 + 14, time.strftime(fmt, time.gmtime(t)), 10, DIM, "middle")
    svg.line(px0, py1, px1, py1, "#464c54")
    # Colour scale.
    sx, sy = x + 8, y + h - 18
    for k in range(40):
        svg.rect(sx + 60 + k * 3, sy, 3.2, 8, heat_color(k / 39))
    svg.text(sx, sy + 8, "per bucket", 10, DIM)
    svg.text(sx + 60 + 40 * 3 + 6, sy + 8, f"0 … {si(peak)} observations / {panel_interval(panel)}", 10, DIM)


def panel_interval(panel):
    return panel.get("_rate_interval", "interval")


def render(base, dashboard, start, end, step, rate_interval, width):
    panels = []

    def walk(items):
        for p in items:
            panels.append(p)
            walk(p.get("panels", []))

    walk(dashboard["panels"])
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    header = 56
    height = header + bottom * ROW_PX + GAP
    col = (width - GAP) / GRID_COLUMNS
    svg = Svg()
    svg.add(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}">')
    svg.rect(0, 0, width, height, BG)
    fmt = "%Y-%m-%d %H:%M:%S"
    svg.text(GAP + 4, 26, dashboard.get("title", "Dashboard"), 20, TEXT, weight="bold")
    svg.text(GAP + 4, 45, f"{time.strftime(fmt, time.gmtime(start))} – "
             f"{time.strftime('%H:%M:%S', time.gmtime(end))} UTC · step {step}s · "
             f"$__rate_interval = {rate_interval} · data from {base}", 12, DIM)
    failures = []
    for index, panel in enumerate(panels):
        g = panel["gridPos"]
        x, y = GAP + g["x"] * col, header + g["y"] * ROW_PX
        w, h = g["w"] * col - GAP, g["h"] * ROW_PX - GAP
        title = panel.get("title", "")
        if panel.get("type") == "row":
            svg.text(x + 4, y + ROW_PX - 10, title, 15, TEXT, weight="bold")
            continue
        svg.rect(x, y, w, h, PANEL_BG, BORDER, rx=3)
        svg.text(x + 10, y + 19, clip_text(title, w - 20, 13), 13, TEXT, weight="bold")
        panel["_rate_interval"] = rate_interval
        series, color = [], 0
        for target in panel.get("targets", []) or []:
            if not target.get("expr") or target.get("hide"):
                continue
            expr = substitute(target["expr"], rate_interval, step, end - start)
            try:
                result = query_range(base, expr, start, end, step)
            except (RuntimeError, OSError, ValueError) as e:
                failures.append(f"{title} {target.get('refId')}: {e}")
                continue
            for metric, points in result:
                series.append({"metric": metric, "points": points, "step": step,
                               "name": legend(target.get("legendFormat"), metric),
                               "color": PALETTE[color % len(PALETTE)]})
                color += 1
        svg.add(f'<g id="panel-{index}">')
        kind = panel.get("type")
        if kind in ("stat", "gauge", "singlestat"):
            draw_stat(svg, panel, series, x, y, w, h)
        elif kind == "heatmap":
            draw_heatmap(svg, panel, series, x, y, w, h, start, end, step)
        else:
            draw_timeseries(svg, panel, series, x, y, w, h, start, end)
        svg.add("</g>")
    svg.add("</svg>")
    return "\n".join(svg.parts) + "\n", failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prometheus", required=True, help="Prometheus base URL")
    parser.add_argument("--dashboard", required=True, help="Grafana dashboard JSON")
    parser.add_argument("--start", default="auto", help="auto, now-15m, or unix seconds")
    parser.add_argument("--end", default="auto", help="auto, now, or unix seconds")
    parser.add_argument("--lookback", type=float, default=3600,
                        help="seconds searched for data with --start/--end auto")
    parser.add_argument("--step", type=float, default=0, help="query step in s (0 = ~300 points)")
    parser.add_argument("--rate-interval", default="5s", help="value of $__rate_interval")
    parser.add_argument("--width", type=int, default=1600, help="SVG width in px")
    parser.add_argument("--out", required=True, help="SVG file to write")
    args = parser.parse_args()

    with open(args.dashboard) as f:
        dashboard = json.load(f)
    now = time.time()
    if args.start == "auto" or args.end == "auto":
        first, last = auto_range(args.prometheus, now, args.lookback, 1)
    start = first if args.start == "auto" else parse_time(args.start, now)
    end = last if args.end == "auto" else parse_time(args.end, now)
    if end <= start:
        raise SystemExit(f"empty time range {start}..{end}")
    step = args.step or max(1, round((end - start) / 300))
    svg, failures = render(args.prometheus, dashboard, start, end, step, args.rate_interval, args.width)
    with open(args.out, "w") as f:
        f.write(svg)
    for failure in failures:
        print("query failed:", failure, file=sys.stderr)
    print(f"wrote {args.out} ({end - start:.0f} s of data, step {step} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
