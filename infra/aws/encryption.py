"""The stack's customer-managed KMS key: EBS, RDS, ElastiCache, S3, SNS and Secrets Manager use it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aws.naming import Tagging


@dataclass(frozen=True)
class EncryptionArgs:
    account_id: str
    region: str
    tagging: Tagging
    production: bool


class Encryption(pulumi.ComponentResource):
    def __init__(self, name: str, args: EncryptionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:encryption:Encryption", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    # The account administers the key through IAM, as AWS's default key policy does.
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{args.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    # CloudWatch alarms publish to the encrypted SNS topic.
                    "Sid": "CloudWatchPublishesAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                },
                {
                    # CloudWatch Logs encrypts this account's log groups (the VPC flow log).
                    "Sid": "CloudWatchLogsEncryptsLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{args.region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{args.region}:{args.account_id}:*"
                        }
                    },
                },
            ],
        }
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{name}: volumes, database, cache, buckets, topic, secrets",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.production else 7,
            policy=json.dumps(policy),
            tags=args.tagging(f"{name}-key"),
            opts=child,
        )
        aws.kms.Alias(f"{name}-alias", name=f"alias/{name}", target_key_id=self.key.key_id, opts=child)
        self.register_outputs({"keyArn": self.key.arn})
