"""VPC with public, private app and private data subnets across AZs, NAT, and an S3 gateway endpoint."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aws.naming import Tagging

# Subnet tiers, each one block of the VPC split in 16: public 0-3, app 4-7, data 8-11.
_TIER_OFFSET = {"public": 0, "app": 4, "data": 8}


def subnet_cidrs(vpc_cidr: str, tier: str, zones: int) -> list[str]:
    """CIDRs of one tier's subnets, one per zone (zones <= 4), from a 16-way split of the VPC."""
    network = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(network.subnets(prefixlen_diff=4))
    return [str(blocks[_TIER_OFFSET[tier] + index]) for index in range(zones)]


@dataclass(frozen=True)
class NetworkArgs:
    cidr: str
    zones: list[str]
    nat_per_az: bool
    region: str
    kms_key_arn: pulumi.Input[str]
    flow_log_retention_days: int
    tagging: Tagging


class Network(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tagging
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tags(f"{name}-vpc"),
            opts=child,
        )
        # The default security group admits everything from its own members: strip its rules so that
        # nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=tags(f"{name}-default-sg"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=tags(f"{name}-igw"), opts=child)

        def subnets(tier: str) -> list[aws.ec2.Subnet]:
            return [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{index + 1}",
                    vpc_id=self.vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags=tags(f"{name}-{tier}-{index + 1}", Tier=tier),
                    opts=child,
                )
                for index, (zone, cidr) in enumerate(
                    zip(args.zones, subnet_cidrs(args.cidr, tier, len(args.zones)), strict=True)
                )
            ]

        self.public_subnets = subnets("public")
        self.app_subnets = subnets("app")
        self.data_subnets = subnets("data")

        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=tags(f"{name}-public-rt"),
            opts=child,
        )
        for index, subnet in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{index + 1}",
                subnet_id=subnet.id,
                route_table_id=public_routes.id,
                opts=child,
            )

        nat_count = len(args.zones) if args.nat_per_az else 1
        nats = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-eip-{index + 1}",
                domain="vpc",
                tags=tags(f"{name}-nat-eip-{index + 1}"),
                opts=child,
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index + 1}",
                    allocation_id=eip.id,
                    subnet_id=self.public_subnets[index].id,
                    tags=tags(f"{name}-nat-{index + 1}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )
        private_tables = []
        for index in range(len(args.zones)):
            nat = nats[index if args.nat_per_az else 0]
            table = aws.ec2.RouteTable(
                f"{name}-private-rt-{index + 1}",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=tags(f"{name}-private-rt-{index + 1}"),
                opts=child,
            )
            private_tables.append(table)
            for tier, tier_subnets in (("app", self.app_subnets), ("data", self.data_subnets)):
                aws.ec2.RouteTableAssociation(
                    f"{name}-{tier}-rta-{index + 1}",
                    subnet_id=tier_subnets[index].id,
                    route_table_id=table.id,
                    opts=child,
                )
        # S3 traffic (videos, SSM transfers) stays inside AWS and skips the NAT's per-GB charge.
        aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_tables],
            tags=tags(f"{name}-s3-endpoint"),
            opts=child,
        )
        self._flow_log(name, args)
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "publicSubnetIds": [s.id for s in self.public_subnets],
                "appSubnetIds": [s.id for s in self.app_subnets],
                "dataSubnetIds": [s.id for s in self.data_subnets],
            }
        )

    def _flow_log(self, name: str, args: NetworkArgs) -> None:
        """Every accepted and rejected connection of the VPC, to an encrypted log group."""
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-log",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.kms_key_arn,
            tags=args.tagging(f"{name}-flow-log"),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-log",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=args.tagging(f"{name}-flow-log"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-log",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=args.tagging(f"{name}-flow-log"),
            opts=child,
        )
