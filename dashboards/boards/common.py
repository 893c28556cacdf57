"""Panel and query builders shared by every dashboard: one datasource, units, legends, layout."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
)

# The provisioned Prometheus datasource has this uid on every Grafana the kit provisions, so
# dashboards never depend on a datasource's display name or an import-time ${DS_...} input.
DATASOURCE_UID = "slipway-prometheus"
ALERTMANAGER_DATASOURCE_UID = "slipway-alertmanager"
DATASOURCE = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
TAGS = ["slipway"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = "__auto"


def _target(query: Query, ref_id: str) -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .ref_id(ref_id)
        .expr(query.expr)
        .legend_format(query.legend)
        .range()
        .datasource(DATASOURCE)
    )


def _ref_ids(count: int) -> list[str]:
    return [chr(ord("A") + index) for index in range(count)]


def timeseries_panel(
    title: str, description: str, unit: str, *queries: Query, width: int = 12, stacked: bool = False
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(8)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
        )
    )
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common_models.StackingMode.NORMAL))
    for query, ref_id in zip(queries, _ref_ids(len(queries)), strict=True):
        panel = panel.with_target(_target(query, ref_id))
    return panel


def stat_panel(
    title: str,
    description: str,
    unit: str,
    query: Query,
    *,
    thresholds: list[tuple[float | None, str]] | None = None,
    width: int = 4,
) -> stat.Panel:
    """A single-number panel; `thresholds` are (lower bound, colour) steps, the first bound None."""
    steps = thresholds or [(None, "green")]
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(4)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .color_mode(common_models.BigValueColorMode.VALUE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(
            dashboard.ThresholdsConfig()
            .mode(ThresholdsMode.ABSOLUTE)
            .steps([Threshold(value=value, color=colour) for value, colour in steps])
        )
        .with_target(_target(query, "A"))
    )


def new_dashboard(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .refresh("30s")
        .time("now-3h", "now")
        .timezone("browser")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .editable()
    )


def host_variable(metric: str) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable("host")
        .label("Host")
        .datasource(DATASOURCE)
        .query(f"label_values({metric}, host)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)
