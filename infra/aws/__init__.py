"""The aws platform: network, keys, buckets, hosts, database, cache and alarms, wired together."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from infra import outputs
from infra.aws.alarms import Alarms, AlarmsArgs
from infra.aws.cache import REDIS_PORT, Cache, CacheArgs, member_cluster_ids
from infra.aws.database import Database, DatabaseArgs
from infra.aws.encryption import Encryption, EncryptionArgs
from infra.aws.hosts import SSH_USER, Hosts, HostsArgs
from infra.aws.naming import Tagging
from infra.aws.network import Network, NetworkArgs
from infra.aws.security import SecurityGroups, SecurityGroupsArgs
from infra.aws.storage import PrivateBucket, PrivateBucketArgs
from infra.config import PROJECT, AwsSettings, ConfigError, Settings


def _zones(count: int) -> list[str]:
    names = list(aws.get_availability_zones(state="available").names)
    if len(names) < count:
        raise ConfigError("availabilityZones", f"asks for {count} zones, the region has {len(names)}", "lower it")
    return names[:count]


def _host(name: str, instance: aws.ec2.Instance, public_ip: pulumi.Input[str] | None = None) -> pulumi.Output[Any]:
    fields: dict[str, pulumi.Input[str]] = {
        "name": name,
        "instanceId": instance.id,
        "privateIp": instance.private_ip,
    }
    if public_ip is not None:
        fields["publicIp"] = public_ip
    return pulumi.Output.all(**fields)


def build(settings: Settings, cfg: AwsSettings) -> dict[str, Any]:
    """Declare the aws environment; return the stack outputs by name."""
    name = settings.name
    tagging = Tagging(PROJECT, settings.stack, settings.environment, settings.tags)
    account_id: str = aws.get_caller_identity().account_id
    encryption = Encryption(f"{name}-kms", EncryptionArgs(account_id, cfg.region, tagging, settings.production))
    key_arn = encryption.key.arn
    network = Network(
        f"{name}-net",
        NetworkArgs(
            cfg.vpc_cidr,
            _zones(cfg.availability_zones),
            cfg.nat_gateway_per_az,
            cfg.region,
            key_arn,
            90 if settings.production else 30,
            tagging,
        ),
    )
    groups = SecurityGroups(
        f"{name}-sg",
        SecurityGroupsArgs(network.vpc.id, cfg.ssh_cidr, settings.app_port, settings.worker_metrics_port, tagging),
    )
    videos = PrivateBucket(f"{name}-videos", PrivateBucketArgs(key_arn, "videos", 30, tagging))
    ops_bucket = PrivateBucket(f"{name}-ops", PrivateBucketArgs(key_arn, "ssm-transfers", 7, tagging))
    hosts = Hosts(
        f"{name}-host",
        HostsArgs(
            ami_owner=cfg.ami_owner,
            ami_name_filter=cfg.ami_name_filter,
            lb_instance_type=cfg.lb_instance_type,
            app_instance_type=cfg.app_instance_type,
            mon_instance_type=cfg.mon_instance_type,
            app_count=settings.app_count,
            root_volume_gb=cfg.root_volume_gb,
            public_subnet_ids=[s.id for s in network.public_subnets],
            app_subnet_ids=[s.id for s in network.app_subnets],
            lb_security_group_id=groups.lb.id,
            app_security_group_id=groups.app.id,
            mon_security_group_id=groups.mon.id,
            kms_key_arn=key_arn,
            video_bucket_arn=videos.bucket.arn,
            ops_bucket_arn=ops_bucket.bucket.arn,
            ssh_public_key=cfg.ssh_public_key if cfg.ssh_cidr else "",
            production=settings.production,
            tagging=tagging,
        ),
    )
    database = Database(
        f"{name}-db",
        DatabaseArgs(
            engine_version=cfg.db_engine_version,
            instance_class=cfg.db_instance_class,
            allocated_storage_gb=cfg.db_allocated_storage_gb,
            max_allocated_storage_gb=cfg.db_max_allocated_storage_gb,
            backup_retention_days=cfg.db_backup_retention_days,
            multi_az=cfg.db_multi_az,
            deletion_protection=cfg.deletion_protection,
            skip_final_snapshot=settings.environment == "development",
            performance_insights=settings.production,
            db_name=cfg.db_name,
            username=cfg.db_username,
            subnet_ids=[s.id for s in network.data_subnets],
            security_group_id=groups.db.id,
            kms_key_arn=key_arn,
            tagging=tagging,
        ),
    )
    replication_group_id = f"{name}-redis"[:40].rstrip("-")
    cache = Cache(
        f"{name}-cache",
        CacheArgs(
            replication_group_id=replication_group_id,
            node_type=cfg.cache_node_type,
            nodes=cfg.cache_nodes,
            snapshot_retention_days=7 if settings.production else 1,
            auth_token=cfg.cache_auth_token,
            subnet_ids=[s.id for s in network.data_subnets],
            security_group_id=groups.cache.id,
            kms_key_arn=key_arn,
            tagging=tagging,
        ),
    )
    app_names = [f"app{index + 1}" for index in range(len(hosts.apps))]
    alarms = Alarms(
        f"{name}-alarm",
        AlarmsArgs(
            instance_ids={"lb": hosts.lb.id, "mon": hosts.mon.id}
            | {n: i.id for n, i in zip(app_names, hosts.apps, strict=True)},
            app_hosts=app_names,
            db_instance_id=database.instance.identifier,
            cache_node_ids=member_cluster_ids(replication_group_id, cfg.cache_nodes),
            kms_key_arn=key_arn,
            email=cfg.alarm_email,
            tagging=tagging,
        ),
    )
    return {
        outputs.AWS_REGION: cfg.region,
        outputs.VPC_ID: network.vpc.id,
        outputs.SSH_ACCESS: bool(cfg.ssh_cidr),
        outputs.SSH_USER: SSH_USER,
        outputs.LB_PUBLIC_IP: hosts.lb_address.public_ip,
        outputs.LB_HOST: _host("lb", hosts.lb, hosts.lb_address.public_ip),
        outputs.APP_HOSTS: pulumi.Output.all(*[_host(n, i) for n, i in zip(app_names, hosts.apps, strict=True)]),
        outputs.MON_HOST: _host("mon", hosts.mon),
        outputs.DB_ENDPOINT: database.instance.address,
        outputs.DB_PORT: database.instance.port,
        outputs.DB_NAME: cfg.db_name,
        outputs.DB_USERNAME: cfg.db_username,
        outputs.DB_PASSWORD_SECRET_ARN: database.instance.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else ""
        ),
        outputs.CACHE_ENDPOINT: cache.group.primary_endpoint_address,
        outputs.CACHE_PORT: REDIS_PORT,
        outputs.CACHE_AUTH_SECRET_ARN: cache.auth_secret.arn,
        outputs.VIDEO_BUCKET: videos.bucket.bucket,
        outputs.OPS_BUCKET: ops_bucket.bucket.bucket,
        outputs.ALARM_TOPIC_ARN: alarms.topic.arn,
        outputs.KMS_KEY_ARN: key_arn,
    }
