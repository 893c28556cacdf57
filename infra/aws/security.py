"""Least-privilege security groups: only the lb takes traffic from the internet, on 80 and 443."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aws.naming import Tagging

ANYWHERE = "0.0.0.0/0"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
NODE_EXPORTER_PORT = 9100
NGINX_EXPORTER_PORT = 9113
# Blue/green slots: each app host runs the API on appPort (blue) and appPort + 1 (green).
APP_SLOTS = 2


@dataclass(frozen=True)
class SecurityGroupsArgs:
    vpc_id: pulumi.Input[str]
    ssh_cidr: str
    app_port: int
    worker_metrics_port: int
    tagging: Tagging


class SecurityGroups(pulumi.ComponentResource):
    def __init__(self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slipway:security:SecurityGroups", name, None, opts)
        self._name = name
        self._child = pulumi.ResourceOptions(parent=self)
        self._tagging = args.tagging

        def group(role: str, description: str) -> aws.ec2.SecurityGroup:
            # No inline rules: every rule is its own resource below, so none is hidden and none is
            # the default allow-all egress (removed when the group is created).
            return aws.ec2.SecurityGroup(
                f"{name}-{role}",
                vpc_id=args.vpc_id,
                description=description,
                tags=args.tagging(f"{name}-{role}", Role=role),
                opts=self._child,
            )

        self.lb = group("lb", "nginx load balancer: 80/443 from the internet")
        self.app = group("app", "API and worker hosts: app ports from the lb only")
        self.mon = group("mon", "Prometheus and Alertmanager: no inbound from the internet")
        self.db = group("db", "RDS PostgreSQL: 5432 from app and mon")
        self.cache = group("cache", "ElastiCache Redis: 6379 from app and mon")

        app_from, app_to = args.app_port, args.app_port + APP_SLOTS - 1
        for port in (80, 443):
            self._ingress(
                "lb",
                port,
                port,
                self.lb,
                cidr=ANYWHERE,
                why=f"HTTP{'S' if port == 443 else ''} from the internet",
            )
        self._ingress("app", app_from, app_to, self.app, source=self.lb, why="API slots from nginx")
        for label, target, port, why in (
            ("lb", self.lb, NODE_EXPORTER_PORT, "node exporter"),
            ("lb", self.lb, NGINX_EXPORTER_PORT, "nginx exporter"),
            ("app", self.app, NODE_EXPORTER_PORT, "node exporter"),
            ("app", self.app, args.worker_metrics_port, "worker metrics"),
        ):
            self._ingress(label, port, port, target, source=self.mon, why=f"{why} scraped by mon")
        self._ingress(
            "app", app_from, app_to, self.app, source=self.mon, why="API metrics scraped by mon", suffix="mon"
        )
        for target, port, label in ((self.db, POSTGRES_PORT, "db"), (self.cache, REDIS_PORT, "cache")):
            self._ingress(label, port, port, target, source=self.app, why="from the app hosts")
            self._ingress(label, port, port, target, source=self.mon, why="from the exporters on mon", suffix="mon")
        if args.ssh_cidr:
            self._ingress("lb", 22, 22, self.lb, cidr=args.ssh_cidr, why="SSH from the operators' network")
            for label, target in (("app", self.app), ("mon", self.mon)):
                self._ingress(label, 22, 22, target, source=self.lb, why="SSH through the lb jump host", suffix="jump")
                self._egress("lb", 22, 22, self.lb, destination=target, why=f"SSH jump to {label}", suffix=label)

        # Egress: package mirrors, AWS APIs and the image registry over HTTP(S); the data tier and
        # the scrape targets by group. DNS and NTP go to the VPC's link-local resolvers, which
        # security groups do not filter.
        for label, sg in (("lb", self.lb), ("app", self.app), ("mon", self.mon)):
            self._egress(label, 80, 80, sg, cidr=ANYWHERE, why="apt mirrors")
            self._egress(label, 443, 443, sg, cidr=ANYWHERE, why="apt mirrors, AWS APIs, registry")
        self._egress("lb", app_from, app_to, self.lb, destination=self.app, why="proxy to the API slots")
        for label, sg in (("app", self.app), ("mon", self.mon)):
            self._egress(label, POSTGRES_PORT, POSTGRES_PORT, sg, destination=self.db, why="PostgreSQL")
            self._egress(label, REDIS_PORT, REDIS_PORT, sg, destination=self.cache, why="Redis")
        for target, label, port in (
            (self.lb, "lb", NODE_EXPORTER_PORT),
            (self.lb, "lb", NGINX_EXPORTER_PORT),
            (self.app, "app", NODE_EXPORTER_PORT),
            (self.app, "app", args.worker_metrics_port),
        ):
            self._egress("mon", port, port, self.mon, destination=target, why=f"scrape {label}:{port}", suffix=label)
        self._egress("mon", app_from, app_to, self.mon, destination=self.app, why="scrape the API slots", suffix="app")
        self.register_outputs({sg_name: sg.id for sg_name, sg in self.groups().items()})

    def groups(self) -> dict[str, aws.ec2.SecurityGroup]:
        return {"lb": self.lb, "app": self.app, "mon": self.mon, "db": self.db, "cache": self.cache}

    def _rule_name(self, direction: str, label: str, from_port: int, suffix: str) -> str:
        return f"{self._name}-{label}-{direction}-{from_port}" + (f"-{suffix}" if suffix else "")

    def _ingress(
        self,
        label: str,
        from_port: int,
        to_port: int,
        target: aws.ec2.SecurityGroup,
        *,
        why: str,
        cidr: str | None = None,
        source: aws.ec2.SecurityGroup | None = None,
        suffix: str = "",
    ) -> None:
        rule = self._rule_name("in", label, from_port, suffix)
        aws.vpc.SecurityGroupIngressRule(
            rule,
            security_group_id=target.id,
            ip_protocol="tcp",
            from_port=from_port,
            to_port=to_port,
            cidr_ipv4=cidr,
            referenced_security_group_id=source.id if source else None,
            description=why,
            tags=self._tagging(rule),
            opts=self._child,
        )

    def _egress(
        self,
        label: str,
        from_port: int,
        to_port: int,
        origin: aws.ec2.SecurityGroup,
        *,
        why: str,
        cidr: str | None = None,
        destination: aws.ec2.SecurityGroup | None = None,
        suffix: str = "",
    ) -> None:
        rule = self._rule_name("out", label, from_port, suffix)
        aws.vpc.SecurityGroupEgressRule(
            rule,
            security_group_id=origin.id,
            ip_protocol="tcp",
            from_port=from_port,
            to_port=to_port,
            cidr_ipv4=cidr,
            referenced_security_group_id=destination.id if destination else None,
            description=why,
            tags=self._tagging(rule),
            opts=self._child,
        )
