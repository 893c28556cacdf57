"""RDS PostgreSQL: private, encrypted, TLS forced, backed up, RDS-managed master password."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aws.naming import Tagging

MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass(frozen=True)
class DatabaseArgs:
    engine_version: str
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    backup_retention_days: int
    multi_az: bool
    deletion_protection: bool
    skip_final_snapshot: bool
    performance_insights: bool
    db_name: str
    username: str
    subnet_ids: list[pulumi.Output[str]]
    security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    tagging: Tagging


class Database(pulumi.ComponentResource):
    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tagging
        major = args.engine_version.split(".")[0]
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=args.subnet_ids, tags=tags(f"{name}-subnets"), opts=child
        )
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=f"postgres{major}",
            description=f"{name}: TLS only, slow statements logged",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1", apply_method="pending-reboot"),
                aws.rds.ParameterGroupParameterArgs(name="log_min_duration_statement", value="500"),
                aws.rds.ParameterGroupParameterArgs(name="log_connections", value="1"),
            ],
            tags=tags(f"{name}-params"),
            opts=child,
        )
        monitoring_role = aws.iam.Role(
            f"{name}-monitoring",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=tags(f"{name}-monitoring"),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring", role=monitoring_role.name, policy_arn=MONITORING_POLICY_ARN, opts=child
        )
        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            engine="postgres",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_name=args.db_name,
            username=args.username,
            # RDS generates the password and keeps it in Secrets Manager, encrypted with our key:
            # it never passes through Pulumi's state.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.kms_key_arn,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[args.security_group_id],
            parameter_group_name=self.parameter_group.name,
            publicly_accessible=False,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            backup_window="02:00-03:00",
            maintenance_window="sun:03:30-sun:04:30",
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=None if args.skip_final_snapshot else f"{name}-final",
            auto_minor_version_upgrade=True,
            # Performance Insights is not offered on the smallest classes staging uses.
            performance_insights_enabled=args.performance_insights,
            performance_insights_kms_key_id=args.kms_key_arn if args.performance_insights else None,
            monitoring_interval=60,
            monitoring_role_arn=monitoring_role.arn,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            apply_immediately=False,
            tags=tags(f"{name}-postgres"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment], protect=args.deletion_protection),
        )
        self.register_outputs(
            {
                "address": self.instance.address,
                "port": self.instance.port,
                "masterSecretArn": self.instance.master_user_secrets.apply(
                    lambda secrets: secrets[0].secret_arn if secrets else ""
                ),
            }
        )
