"""EC2 hosts for lb, app x N and mon: Debian 12, IMDSv2 only, encrypted volumes, SSM-managed."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aws.naming import Tagging

SSH_USER = "admin"  # the login user of Debian's cloud images
SSM_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


@dataclass(frozen=True)
class HostsArgs:
    ami_owner: str
    ami_name_filter: str
    lb_instance_type: str
    app_instance_type: str
    mon_instance_type: str
    app_count: int
    root_volume_gb: int
    public_subnet_ids: list[pulumi.Output[str]]
    app_subnet_ids: list[pulumi.Output[str]]
    lb_security_group_id: pulumi.Input[str]
    app_security_group_id: pulumi.Input[str]
    mon_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    video_bucket_arn: pulumi.Input[str]
    ops_bucket_arn: pulumi.Input[str]
    ssh_public_key: str
    production: bool
    tagging: Tagging


def debian_ami(owner: str, name_filter: str) -> pulumi.Output[str]:
    """The newest Debian 12 x86_64 HVM image published by `owner`."""
    return aws.ec2.get_ami_output(
        most_recent=True,
        owners=[owner],
        filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=[name_filter]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"]),
            aws.ec2.GetAmiFilterArgs(name="virtualization-type", values=["hvm"]),
        ],
    ).id


def _bucket_policy(bucket_arns: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ListBuckets",
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket"],
                    "Resource": bucket_arns,
                },
                {
                    "Sid": "ReadWriteObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": [f"{arn}/*" for arn in bucket_arns],
                },
            ],
        }
    )


class Hosts(pulumi.ComponentResource):
    def __init__(self, name: str, args: HostsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:hosts:Hosts", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self._ami = debian_ami(args.ami_owner, args.ami_name_filter)
        # lb and mon need only SSM and the ops bucket (SSM file transfers); app hosts also read and
        # write videos.
        self._base_profile = self._profile("base", [args.ops_bucket_arn])
        self._app_profile = self._profile("app", [args.ops_bucket_arn, args.video_bucket_arn])
        self._key_name: pulumi.Output[str] | None = None
        if args.ssh_public_key:
            self._key_name = aws.ec2.KeyPair(
                f"{name}-ssh",
                public_key=args.ssh_public_key,
                tags=args.tagging(f"{name}-ssh"),
                opts=self._child,
            ).key_name

        self.lb = self._instance(
            "lb",
            args.lb_instance_type,
            args.public_subnet_ids[0],
            args.lb_security_group_id,
            self._base_profile,
            hop_limit=1,
        )
        self.lb_address = aws.ec2.Eip(
            f"{name}-lb-eip",
            domain="vpc",
            instance=self.lb.id,
            tags=args.tagging(f"{name}-lb-eip"),
            opts=self._child,
        )
        # Containers on the app hosts reach the instance role through Docker's bridge: one more hop.
        self.apps = [
            self._instance(
                f"app{index + 1}",
                args.app_instance_type,
                args.app_subnet_ids[index % len(args.app_subnet_ids)],
                args.app_security_group_id,
                self._app_profile,
                hop_limit=2,
            )
            for index in range(args.app_count)
        ]
        self.mon = self._instance(
            "mon",
            args.mon_instance_type,
            args.app_subnet_ids[-1],
            args.mon_security_group_id,
            self._base_profile,
            hop_limit=1,
        )
        self.register_outputs({"lbPublicIp": self.lb_address.public_ip})

    def _profile(self, role_name: str, bucket_arns: list[pulumi.Input[str]]) -> aws.iam.InstanceProfile:
        name = f"{self._name}-{role_name}"
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=self._args.tagging(f"{name}-role"),
            opts=self._child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-ssm", role=role.name, policy_arn=SSM_POLICY_ARN, opts=self._child)
        aws.iam.RolePolicy(
            f"{name}-buckets",
            role=role.id,
            policy=pulumi.Output.all(*bucket_arns).apply(lambda arns: _bucket_policy([str(a) for a in arns])),
            opts=self._child,
        )
        # Objects are encrypted with the stack's key; the role may use it for S3 only.
        aws.iam.RolePolicy(
            f"{name}-kms",
            role=role.id,
            policy=pulumi.Output.from_input(self._args.kms_key_arn).apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                                "Resource": arn,
                                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
                            }
                        ],
                    }
                )
            ),
            opts=self._child,
        )
        return aws.iam.InstanceProfile(
            f"{name}-profile", role=role.name, tags=self._args.tagging(f"{name}-profile"), opts=self._child
        )

    def _instance(
        self,
        host: str,
        instance_type: str,
        subnet_id: pulumi.Input[str],
        security_group_id: pulumi.Input[str],
        profile: aws.iam.InstanceProfile,
        *,
        hop_limit: int,
    ) -> aws.ec2.Instance:
        name = f"{self._name}-{host}"
        return aws.ec2.Instance(
            name,
            ami=self._ami,
            instance_type=instance_type,
            subnet_id=subnet_id,
            vpc_security_group_ids=[security_group_id],
            associate_public_ip_address=False,
            iam_instance_profile=profile.name,
            key_name=self._key_name,
            monitoring=True,
            ebs_optimized=True,
            disable_api_termination=self._args.production,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=hop_limit,
                instance_metadata_tags="disabled",
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3",
                volume_size=self._args.root_volume_gb,
                encrypted=True,
                kms_key_id=self._args.kms_key_arn,
                delete_on_termination=True,
                tags=self._args.tagging(f"{name}-root"),
            ),
            tags=self._args.tagging(name, Host=host, Group="app" if host.startswith("app") else host),
            # A newer AMI must not replace running hosts: they are patched in place by Ansible.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami"]),
        )
