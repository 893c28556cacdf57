"""Hosts (node_exporter on every fleet host): CPU, memory, disks, network, clock, systemd (USE)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from dashboards.boards.common import Query, host_variable, new_dashboard, row, stat_panel, timeseries_panel

UID = "slipway-hosts"
_NODE = 'job="node",host=~"$host"'
_FS = f'{_NODE},fstype!~"tmpfs|ramfs|squashfs|fuse.*",mountpoint!~"/run.*|/dev.*"'
_NIC = f'{_NODE},device!="lo"'
_RATE = "$__rate_interval"


def build() -> Dashboard:
    idle = f'rate(node_cpu_seconds_total{{{_NODE},mode="idle"}}[{_RATE}])'
    return (
        new_dashboard(UID, "Slipway / Hosts", "Every fleet host (lb, app1, app2, db, cache, mon): USE metrics.")
        .with_variable(host_variable('node_uname_info{job="node"}'))
        .with_row(row("Overview"))
        .with_panel(
            stat_panel(
                "Hosts up",
                "Hosts whose node_exporter Prometheus scrapes successfully.",
                "none",
                Query(f"sum(up{{{_NODE}}})", "up"),
                thresholds=[(None, "red"), (6, "green")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Failed systemd units",
                "Units in the failed state on the selected hosts.",
                "none",
                Query(f'sum(node_systemd_unit_state{{{_NODE},state="failed"}}) or vector(0)', "failed"),
                thresholds=[(None, "green"), (1, "red")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "OOM kills (24h)",
                "Processes the kernel killed for lack of memory in the last day.",
                "none",
                Query(f"sum(increase(node_vmstat_oom_kill{{{_NODE}}}[24h])) or vector(0)", "OOM kills"),
                thresholds=[(None, "green"), (1, "orange")],
                width=8,
            )
        )
        .with_row(row("CPU and memory"))
        .with_panel(
            timeseries_panel(
                "CPU busy",
                "Share of CPU time not idle, per host.",
                "percentunit",
                Query(f"1 - avg by (host) ({idle})", "{{host}}"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Load per CPU",
                "1-minute load average divided by the number of CPUs (above 1 means a run queue).",
                "none",
                Query(
                    f"max by (host) (node_load1{{{_NODE}}})\n/\n"
                    f'count by (host) (node_cpu_seconds_total{{{_NODE},mode="idle"}})',
                    "{{host}}",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                "Memory available",
                "Share of memory available to new processes, per host.",
                "percentunit",
                Query(
                    f"node_memory_MemAvailable_bytes{{{_NODE}}} / node_memory_MemTotal_bytes{{{_NODE}}}",
                    "{{host}}",
                ),
                width=24,
            )
        )
        .with_row(row("Disks and network"))
        .with_panel(
            timeseries_panel(
                "Filesystem space left",
                "Share of space available, per host and mount point (RAM-backed filesystems left out).",
                "percentunit",
                Query(
                    f"node_filesystem_avail_bytes{{{_FS}}} / node_filesystem_size_bytes{{{_FS}}}",
                    "{{host}} {{mountpoint}}",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                "Disk busy",
                "Share of time each block device was busy with I/O.",
                "percentunit",
                Query(
                    f"max by (host, device) (rate(node_disk_io_time_seconds_total{{{_NODE}}}[{_RATE}]))",
                    "{{host}} {{device}}",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                "Network traffic",
                "Bytes received and sent per second, per host (loopback left out).",
                "Bps",
                Query(
                    f"sum by (host) (rate(node_network_receive_bytes_total{{{_NIC}}}[{_RATE}]))",
                    "{{host}} in",
                ),
                Query(
                    f"sum by (host) (rate(node_network_transmit_bytes_total{{{_NIC}}}[{_RATE}]))",
                    "{{host}} out",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                "Clock offset",
                "Offset of each host's clock as the kernel reports it (alert beyond 50 ms).",
                "s",
                Query(f"node_timex_offset_seconds{{{_NODE}}}", "{{host}}"),
            )
        )
    )
