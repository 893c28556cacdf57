"""ElastiCache Redis: replication group, TLS required, encrypted at rest, AUTH token in Secrets Manager."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aws.naming import Tagging

REDIS_PORT = 6379


def member_cluster_ids(replication_group_id: str, nodes: int) -> list[str]:
    """ElastiCache names the nodes of a replication group <id>-001, <id>-002, ..."""
    return [f"{replication_group_id}-{index + 1:03d}" for index in range(nodes)]


@dataclass(frozen=True)
class CacheArgs:
    replication_group_id: str
    node_type: str
    nodes: int
    snapshot_retention_days: int
    auth_token: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]
    security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    tagging: Tagging


class Cache(pulumi.ComponentResource):
    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:cache:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tagging
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            description=f"{name}: private data subnets",
            subnet_ids=args.subnet_ids,
            tags=tags(f"{name}-subnets"),
            opts=child,
        )
        failover = args.nodes >= 2
        self.group = aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            replication_group_id=args.replication_group_id,
            description=f"{name}: cache, rate limits and job queue of the app",
            engine="redis",
            engine_version="7.1",
            node_type=args.node_type,
            num_cache_clusters=args.nodes,
            port=REDIS_PORT,
            automatic_failover_enabled=failover,
            multi_az_enabled=failover,
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=args.auth_token,
            auth_token_update_strategy="ROTATE",  # noqa: S106 - a strategy name, not a token
            subnet_group_name=subnets.name,
            security_group_ids=[args.security_group_id],
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window="01:00-02:00",
            maintenance_window="sun:04:30-sun:05:30",
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            tags=tags(f"{name}-redis"),
            opts=child,
        )
        # The hosts' Ansible run reads the token from here (an ARN in the group vars), not from the
        # operator's stack config.
        self.auth_secret = aws.secretsmanager.Secret(
            f"{name}-auth",
            description=f"{name}: Redis AUTH token of {args.replication_group_id}",
            kms_key_id=args.kms_key_arn,
            recovery_window_in_days=7,
            tags=tags(f"{name}-auth"),
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-auth", secret_id=self.auth_secret.id, secret_string=args.auth_token, opts=child
        )
        self.register_outputs(
            {"primaryEndpoint": self.group.primary_endpoint_address, "authSecretArn": self.auth_secret.arn}
        )
