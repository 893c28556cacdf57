"""Host alerts from node_exporter (job node): disk, memory, CPU, clock, systemd units."""

from __future__ import annotations

from dashboards.fleet import NODE_JOB
from dashboards.rulebook import Alert, RuleFile, RuleGroup

# Real filesystems only: RAM-backed and read-only image filesystems fill and empty by design
# (node_exporter already leaves out overlay, proc, sysfs and the like).
_FS = f'job="{NODE_JOB}",fstype!~"tmpfs|ramfs|squashfs|fuse.*",mountpoint!~"/run.*|/dev.*"'
_AVAILABLE_SHARE = f"node_filesystem_avail_bytes{{{_FS}}}\n  /\n  node_filesystem_size_bytes{{{_FS}}}"
_DISK_DESCRIPTION = (
    "{{ $labels.mountpoint }} on {{ $labels.host }} has {{ $value | humanizePercentage }} of its space left."
)


def _disk_space(severity: str, share: str) -> Alert:
    return Alert(
        name="HostDiskSpaceLow",
        expr=f"(\n  {_AVAILABLE_SHARE}\n) < {share}\nand\nnode_filesystem_readonly{{{_FS}}} == 0",
        severity="critical" if severity == "critical" else "warning",
        for_="15m",
        summary="A filesystem is running out of space.",
        description=_DISK_DESCRIPTION,
    )


def rule_file() -> RuleFile:
    job = f'job="{NODE_JOB}"'
    alerts = [
        _disk_space("warning", "0.10"),
        _disk_space("critical", "0.05"),
        Alert(
            name="HostDiskWillFillIn24Hours",
            # Both conditions, as node-mixin does: a steep trend on a nearly empty disk is normal churn.
            expr=(
                f"(\n  {_AVAILABLE_SHARE}\n) < 0.40\nand\n"
                f"predict_linear(\n  node_filesystem_avail_bytes{{{_FS}}}[6h], 24 * 3600\n) < 0\n"
                f"and\nnode_filesystem_readonly{{{_FS}}} == 0"
            ),
            severity="warning",
            for_="1h",
            summary="A filesystem is predicted to fill up within 24 hours.",
            description=(
                "{{ $labels.mountpoint }} on {{ $labels.host }} has {{ $value | humanizePercentage }} of "
                "its space left and, at the rate of the last 6 hours, fills up within a day."
            ),
        ),
        Alert(
            name="HostMemoryLow",
            expr=f"node_memory_MemAvailable_bytes{{{job}}} / node_memory_MemTotal_bytes{{{job}}} < 0.10",
            severity="warning",
            for_="15m",
            summary="A host is running out of memory.",
            description="{{ $labels.host }} has {{ $value | humanizePercentage }} of its memory available.",
        ),
        Alert(
            name="HostOomKillDetected",
            expr=f"increase(node_vmstat_oom_kill{{{job}}}[15m]) > 0",
            severity="warning",
            summary="The kernel killed a process because memory ran out.",
            description="{{ $labels.host }}: {{ $value | humanize }} OOM kills in the last 15 minutes.",
        ),
        Alert(
            name="HostCpuHigh",
            expr=(f'1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{{{job},mode="idle"}}[5m])) > 0.90'),
            severity="warning",
            for_="30m",
            summary="A host's CPUs have been nearly saturated for half an hour.",
            description="{{ $labels.host }} CPUs are {{ $value | humanizePercentage }} busy.",
        ),
        Alert(
            name="HostClockSkew",
            expr=f"abs(node_timex_offset_seconds{{{job}}}) > 0.05",
            severity="warning",
            for_="10m",
            summary="A host's clock is off by more than 50 ms.",
            description="The clock of {{ $labels.host }} is off by {{ $value | humanizeDuration }}.",
        ),
        Alert(
            name="HostClockNotSynchronising",
            expr=(
                f"node_timex_maxerror_seconds{{{job}}} >= 16\n"
                f"and\nmin_over_time(node_timex_sync_status{{{job}}}[5m]) == 0"
            ),
            severity="warning",
            for_="10m",
            summary="A host's clock is not synchronised by NTP.",
            description=(
                "{{ $labels.host }} has not been synchronised for a while; "
                "its maximum clock error is {{ $value | humanizeDuration }}."
            ),
        ),
        Alert(
            name="HostSystemdUnitFailed",
            expr=f'node_systemd_unit_state{{{job},state="failed"}} == 1',
            severity="warning",
            for_="5m",
            summary="A systemd unit has failed.",
            description="{{ $labels.name }} on {{ $labels.host }} is in the failed state.",
        ),
    ]
    return RuleFile(stem="hosts", groups=[RuleGroup(name="hosts", rules=alerts)])
