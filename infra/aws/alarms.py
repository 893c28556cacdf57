"""CloudWatch alarms on the hosts, RDS and ElastiCache, published to an encrypted SNS topic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.aws.naming import Tagging


@dataclass(frozen=True)
class AlarmsArgs:
    instance_ids: Mapping[str, pulumi.Input[str]]  # host name -> instance id
    app_hosts: list[str]
    db_instance_id: pulumi.Input[str]
    cache_node_ids: list[str]
    kms_key_arn: pulumi.Input[str]
    email: str
    tagging: Tagging


@dataclass(frozen=True)
class _Threshold:
    metric: str
    namespace: str
    comparison: str
    threshold: float
    statistic: str = "Average"
    periods: int = 3
    description: str = ""


_HOST = _Threshold(
    "StatusCheckFailed",
    "AWS/EC2",
    "GreaterThanOrEqualToThreshold",
    1,
    "Maximum",
    2,
    "host failed a status check",
)
_APP_CPU = _Threshold("CPUUtilization", "AWS/EC2", "GreaterThanThreshold", 85, description="app host CPU above 85%")
_DB = (
    _Threshold("CPUUtilization", "AWS/RDS", "GreaterThanThreshold", 80, description="database CPU above 80%"),
    _Threshold(
        "FreeStorageSpace",
        "AWS/RDS",
        "LessThanThreshold",
        2 * 1024**3,
        description="database storage below 2 GiB",
    ),
    _Threshold(
        "FreeableMemory",
        "AWS/RDS",
        "LessThanThreshold",
        128 * 1024**2,
        description="database memory below 128 MiB",
    ),
)
_CACHE = (
    _Threshold(
        "EngineCPUUtilization",
        "AWS/ElastiCache",
        "GreaterThanThreshold",
        80,
        description="Redis CPU above 80%",
    ),
    _Threshold(
        "DatabaseMemoryUsagePercentage",
        "AWS/ElastiCache",
        "GreaterThanThreshold",
        85,
        description="Redis memory above 85%",
    ),
    _Threshold("Evictions", "AWS/ElastiCache", "GreaterThanThreshold", 0, "Sum", 1, "Redis is evicting keys"),
)


class Alarms(pulumi.ComponentResource):
    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:alarms:Alarms", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            kms_master_key_id=args.kms_key_arn,
            tags=args.tagging(f"{name}-topic"),
            opts=self._child,
        )
        if args.email:
            aws.sns.TopicSubscription(
                f"{name}-email", topic=self.topic.arn, protocol="email", endpoint=args.email, opts=self._child
            )
        self.alarms: list[Any] = []
        for host, instance_id in args.instance_ids.items():
            self._alarm(f"{host}-status", _HOST, {"InstanceId": instance_id})
            if host in args.app_hosts:
                self._alarm(f"{host}-cpu", _APP_CPU, {"InstanceId": instance_id})
        for rule in _DB:
            self._alarm(f"db-{rule.metric.lower()}", rule, {"DBInstanceIdentifier": args.db_instance_id})
        for node in args.cache_node_ids:
            for rule in _CACHE:
                self._alarm(
                    f"{node.rsplit('-', 1)[-1]}-{rule.metric.lower()}",
                    rule,
                    {"CacheClusterId": node},
                    "cache",
                )
        self.register_outputs({"topicArn": self.topic.arn})

    def _alarm(self, label: str, rule: _Threshold, dimensions: dict[str, pulumi.Input[str]], prefix: str = "") -> None:
        name = f"{self._name}-{prefix + '-' if prefix else ''}{label}"
        self.alarms.append(
            aws.cloudwatch.MetricAlarm(
                name,
                alarm_description=f"{self._name}: {rule.description}",
                namespace=rule.namespace,
                metric_name=rule.metric,
                dimensions=dimensions,
                statistic=rule.statistic,
                period=60,
                evaluation_periods=rule.periods,
                threshold=rule.threshold,
                comparison_operator=rule.comparison,
                treat_missing_data="breaching" if rule.metric == "StatusCheckFailed" else "notBreaching",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags=self._args.tagging(name),
                opts=self._child,
            )
        )
