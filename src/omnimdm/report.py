"""The run report: one self-contained HTML file (``omnimdm report --out report.html``).

Counts per stage and source, the data-quality profile, pairs per blocking rule, the
match-weight distribution, m and u per comparison level, the cluster-size histogram and
the review queue. Ids and counts only: no names, e-mails or phones. Charts are Vega-Lite
specs rendered by the vega, vega-lite and vega-embed scripts that Splink ships inside its
package, inlined here, so the file opens with no network.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from omnimdm.errors import StoreError
from omnimdm.pipeline import SOURCE_COUNTS
from omnimdm.store import Store

#: Splink's bundled chart libraries (package data), in load order
JS_LIBRARIES = ("vega@5.31.0", "vega-lite@5.2.0", "vega-embed@6.20.2")


@dataclass
class ReportData:
    run_id: int
    ended_at: str
    counts: dict[str, Any]
    timings: dict[str, float]
    profile: list[dict[str, Any]]
    weight_bins: list[dict[str, Any]]
    m_u: list[dict[str, Any]]
    cluster_sizes: list[dict[str, Any]]
    queue: dict[str, int]
    decisions: dict[str, int] = field(default_factory=dict)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[dict[str, Any]]:
    rel = con.sql(sql, params=params or None)
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def gather(store: Store, threshold: float) -> ReportData:
    """Everything the report shows, read in one short session (counts only)."""
    from omnimdm.review.decisions import load_decisions, with_status
    from omnimdm.review.records import published

    with published(store, "report") as con:
        runs = con.sql(
            "SELECT run_id, ended_at, counts, timings FROM runs WHERE status = 'published' "
            "ORDER BY run_id DESC LIMIT 1"
        ).fetchall()
        if not runs:
            raise StoreError("no published run to report on; run `omnimdm run` first")
        run_id, ended, counts, timings = runs[0]
        model = con.sql("SELECT model_json FROM models ORDER BY run_id DESC LIMIT 1").fetchall()
        data = ReportData(
            run_id=int(run_id),
            ended_at=str(ended)[:19],
            counts=json.loads(counts) if counts else {},
            timings=json.loads(timings) if timings else {},
            profile=_rows(
                con,
                "SELECT source, field, records, fill_rate, validity_rate, shared "
                "FROM quality_profile ORDER BY source, field",
            ),
            weight_bins=_rows(
                con,
                "SELECT floor(match_weight)::INTEGER AS weight, "
                "CASE WHEN match_probability >= $t THEN 'linked' ELSE 'not linked' END AS status, "
                "count(*) AS pairs FROM match_pairs GROUP BY ALL ORDER BY 1",
                t=threshold,
            ),
            m_u=_m_u(json.loads(model[0][0])) if model else [],
            cluster_sizes=_rows(
                con,
                "SELECT n AS size, count(*) AS clusters FROM "
                "(SELECT count(*) AS n FROM clusters GROUP BY golden_id) GROUP BY 1 ORDER BY 1",
            ),
            queue={
                str(k): int(n)
                for k, n in con.sql(
                    "SELECT kind, count(*) FROM review_queue GROUP BY 1 ORDER BY 1"
                ).fetchall()
            },
        )
        for _, status in with_status(con, load_decisions(con, include_revoked=True)):
            data.decisions[status] = data.decisions.get(status, 0) + 1
    return data


def _m_u(model: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name", "?")
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            label = str(level.get("label_for_charts", level.get("sql_condition", "")))
            weight = math.log2(m / u) if m and u else None
            out.append(
                {"comparison": name, "level": f"{name}: {label}", "m": m, "u": u, "weight": weight}
            )
    return out


def _bar(
    values: list[dict[str, Any]],
    x: str,
    y: str,
    *,
    title: str,
    color: str | None = None,
    horizontal: bool = False,
    x_type: str = "ordinal",
    width: int = 520,
) -> dict[str, Any]:
    enc: dict[str, Any] = {
        "x": {"field": x, "type": x_type, "title": x},
        "y": {"field": y, "type": "quantitative", "title": y},
        "tooltip": [{"field": k} for k in values[0]] if values else [],
    }
    if horizontal:
        enc["x"], enc["y"] = (
            {"field": y, "type": "quantitative", "title": y},
            {"field": x, "type": "nominal", "title": None, "sort": "-x"},
        )
    if color:
        enc["color"] = {"field": color, "type": "nominal"}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": width,
        "data": {"values": values},
        "mark": "bar",
        "encoding": enc,
    }


def chart_specs(data: ReportData) -> list[dict[str, Any]]:
    sources = data.counts.get("sources", {})
    per_source = [
        {"source": name, "status": status, "records": int(c.get(status, 0))}
        for name, c in sources.items()
        for status in ("accepted", "rejected")
    ]
    rules = [
        {"blocking rule": rule, "pairs": n}
        for rule, n in data.counts.get("match", {}).get("pairs_per_blocking_rule", {}).items()
    ]
    queue = [{"kind": k, "pairs": n} for k, n in sorted(data.queue.items())]
    m_u = [
        {"level": r["level"], "probability": r[p], "parameter": p}
        for r in data.m_u
        for p in ("m", "u")
        if r[p] is not None
    ]
    mu_chart = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "m and u probabilities per comparison level",
        "data": {"values": m_u},
        "facet": {"column": {"field": "parameter", "type": "nominal", "title": None}},
        "spec": {
            "width": 260,
            "mark": "bar",
            "encoding": {
                "y": {"field": "level", "type": "nominal", "title": None, "sort": None},
                "x": {"field": "probability", "type": "quantitative"},
                "color": {"field": "parameter", "type": "nominal", "legend": None},
                "tooltip": [{"field": "level"}, {"field": "probability", "format": ".4f"}],
            },
        },
    }
    return [
        _bar(per_source, "source", "records", title="Records per source", color="status"),
        _bar(
            rules,
            "blocking rule",
            "pairs",
            title="Pairs kept per blocking rule (first rule that found them)",
            horizontal=True,
            width=420,
        ),
        _bar(
            data.weight_bins,
            "weight",
            "pairs",
            title="Match-weight distribution of scored pairs",
            color="status",
            x_type="ordinal",
        ),
        mu_chart,
        _bar(
            data.cluster_sizes,
            "size",
            "clusters",
            title="Cluster sizes (records per golden record)",
        ),
        _bar(
            queue or [{"kind": "(empty)", "pairs": 0}],
            "kind",
            "pairs",
            title="Review queue by kind",
        ),
    ]


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _stage_rows(data: ReportData) -> list[list[Any]]:
    c, t = data.counts, data.timings
    sources = c.get("sources", {})
    return [
        [
            "ingest",
            "records accepted",
            sum(int(s.get("accepted", 0)) for s in sources.values()),
            t.get("ingest"),
        ],
        [
            "normalize",
            "canonical records",
            c.get("normalize", {}).get("records"),
            t.get("normalize"),
        ],
        [
            "match",
            "candidate pairs kept",
            c.get("match", {}).get("pairs_scored_kept"),
            t.get("match"),
        ],
        ["match", "pairs linked", c.get("match", {}).get("pairs_linked"), None],
        ["cluster", "clusters", c.get("cluster", {}).get("clusters"), t.get("cluster")],
        [
            "cluster",
            "steward decisions applied",
            c.get("cluster", {}).get("decisions_active"),
            None,
        ],
        ["survive", "golden records", c.get("survive", {}).get("golden_records"), t.get("survive")],
        [
            "review",
            "pairs queued for review",
            c.get("review", {}).get("queue_items"),
            t.get("review"),
        ],
    ]


def render_html(data: ReportData) -> str:
    js_dir = resources.files("splink") / "internals" / "files" / "external_js"
    scripts = "\n".join(
        "<script>"
        + (js_dir / name).read_text(encoding="utf-8").replace("</script", "<\\/script")
        + "</script>"
        for name in JS_LIBRARIES
    )
    specs = json.dumps(chart_specs(data), default=str).replace("</", "<\\/")
    sources = data.counts.get("sources", {})
    source_rows = [
        [
            name,
            *(c.get(k, 0) for k in SOURCE_COUNTS),
        ]
        for name, c in sources.items()
    ]
    profile_rows = [
        [
            p["source"],
            p["field"],
            p["records"],
            f"{p['fill_rate']:.1%}",
            f"{p['validity_rate']:.1%}",
            p["shared"],
        ]
        for p in data.profile
    ]
    mu_rows = [[r["level"], r["m"], r["u"], r["weight"]] for r in data.m_u]
    review_rows = [[k, n] for k, n in sorted(data.queue.items())] + [
        [f"decisions: {k}", n] for k, n in sorted(data.decisions.items())
    ]
    charts = "".join(f'<div class="chart" id="chart-{i}"></div>' for i in range(6))
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>omnimdm run {data.run_id} report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.chart {{ margin: 1.5em 0; }}
</style>
{scripts}
</head><body>
<h1>omnimdm run {data.run_id}</h1>
<p>Published {html.escape(data.ended_at)}; report generated {generated}. Ids and counts
only: no personal data.</p>
<h2>Stages</h2>
{_table(["stage", "what", "count", "seconds"], _stage_rows(data))}
<h2>Sources (read = accepted + rejected + suppressed)</h2>
{_table(["source", *SOURCE_COUNTS], source_rows)}
<h2>Charts</h2>
{charts}
<h2>Data-quality profile</h2>
{_table(["source", "field", "records", "fill", "valid", "shared"], profile_rows)}
<h2>m and u per comparison level</h2>
{_table(["level", "m", "u", "weight (bits)"], mu_rows)}
<h2>Review</h2>
{_table(["queue kind / decisions", "count"], review_rows)}
<script>
const specs = {specs};
Promise.all(specs.map((spec, i) =>
  vegaEmbed("#chart-" + i, spec, {{renderer: "svg", actions: false}})))
  .then(() => document.body.setAttribute("data-charts-rendered", String(specs.length)))
  .catch(err => document.body.setAttribute("data-chart-error", String(err)));
</script>
</body></html>
"""


def write_report(store: Store, out: Path, *, threshold: float) -> ReportData:
    data = gather(store, threshold)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(render_html(data), encoding="utf-8")
    tmp.replace(out)
    return data
