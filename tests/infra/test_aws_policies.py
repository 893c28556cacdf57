"""Security and reliability policies over the inputs the aws program sends to the provider."""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import json
from typing import Any

import pytest

from infra.aws.naming import REQUIRED_TAGS
from tests.infra.pulumi_mocks import TEST_SECRETS, StackRun, secret_paths
from tests.infra.stacks import AWS_STACKS, stack_run

INSTANCE = "aws:ec2/instance:Instance"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
BUCKET = "aws:s3/bucket:Bucket"


def plain(run: StackRun, type_: str) -> list[dict[str, Any]]:
    found = [r.plain for r in run.of_type(type_)]
    assert found, f"{run.stack} declares no {type_}"
    return found


def group_id(run: StackRun, role: str) -> str:
    return f"slipway-{run.stack}-sg-{role}-id"


def test_root_volumes_are_encrypted_with_the_stack_key(aws_stack: StackRun) -> None:
    key_arn = aws_stack.outputs["kmsKeyArn"]
    for instance in plain(aws_stack, INSTANCE):
        volume = instance["rootBlockDevice"]
        assert volume["encrypted"] is True
        assert volume["kmsKeyId"] == key_arn


def test_instances_require_imdsv2(aws_stack: StackRun) -> None:
    for instance in plain(aws_stack, INSTANCE):
        options = instance["metadataOptions"]
        assert options["httpTokens"] == "required"
        assert options["httpPutResponseHopLimit"] <= 2


def test_instances_get_no_public_address(aws_stack: StackRun) -> None:
    for instance in plain(aws_stack, INSTANCE):
        assert instance["associatePublicIpAddress"] is False


def test_only_lb_http_and_https_are_open_to_the_internet(aws_stack: StackRun) -> None:
    public = [r for r in plain(aws_stack, INGRESS) if r.get("cidrIpv4") == "0.0.0.0/0"]
    assert sorted((r["securityGroupId"], r["fromPort"], r["toPort"]) for r in public) == [
        (group_id(aws_stack, "lb"), 80, 80),
        (group_id(aws_stack, "lb"), 443, 443),
    ]
    assert not any(r.get("cidrIpv6") for r in plain(aws_stack, INGRESS))


def test_ssh_is_open_only_to_the_configured_network(aws_stack: StackRun) -> None:
    ssh = [r for r in plain(aws_stack, INGRESS) if r["fromPort"] <= 22 <= r["toPort"]]
    from_cidr = [r for r in ssh if r.get("cidrIpv4")]
    if aws_stack.outputs["sshAccess"]:
        assert [r["cidrIpv4"] for r in from_cidr] == ["203.0.113.0/24"]
        assert all(r["securityGroupId"] == group_id(aws_stack, "lb") for r in from_cidr)
    else:
        assert ssh == []
    for rule in from_cidr:
        assert ipaddress.IPv4Network(rule["cidrIpv4"]).prefixlen >= 8


def test_prod_has_no_ssh_port_at_all(aws_prod: StackRun) -> None:
    assert not [r for r in plain(aws_prod, INGRESS) if r["fromPort"] == 22]
    assert aws_prod.outputs["sshAccess"] is False


def test_security_groups_declare_no_inline_rules(aws_stack: StackRun) -> None:
    for group in plain(aws_stack, "aws:ec2/securityGroup:SecurityGroup"):
        assert "ingress" not in group
        assert "egress" not in group


def test_every_rule_names_one_source_and_says_why(aws_stack: StackRun) -> None:
    for rule in plain(aws_stack, INGRESS) + plain(aws_stack, EGRESS):
        assert bool(rule.get("cidrIpv4")) != bool(rule.get("referencedSecurityGroupId"))
        assert rule["ipProtocol"] == "tcp"
        assert rule["description"]


def test_default_security_group_is_emptied(aws_stack: StackRun) -> None:
    (default,) = plain(aws_stack, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default["ingress"] == []
    assert default["egress"] == []


def test_db_and_cache_take_traffic_only_from_app_and_mon(aws_stack: StackRun) -> None:
    allowed = {group_id(aws_stack, "app"), group_id(aws_stack, "mon")}
    for role, port in (("db", 5432), ("cache", 6379)):
        rules = [r for r in plain(aws_stack, INGRESS) if r["securityGroupId"] == group_id(aws_stack, role)]
        assert {r["referencedSecurityGroupId"] for r in rules} == allowed
        assert {(r["fromPort"], r["toPort"]) for r in rules} == {(port, port)}


def test_subnets_never_assign_public_addresses(aws_stack: StackRun) -> None:
    for subnet in plain(aws_stack, "aws:ec2/subnet:Subnet"):
        assert subnet["mapPublicIpOnLaunch"] is False


def test_database_is_encrypted_private_and_forces_tls(aws_stack: StackRun) -> None:
    (db,) = plain(aws_stack, RDS)
    assert db["storageEncrypted"] is True
    assert db["kmsKeyId"] == aws_stack.outputs["kmsKeyArn"]
    assert db["publiclyAccessible"] is False
    assert db["engine"] == "postgres"
    assert db["engineVersion"].split(".")[0] == "15"
    (params,) = plain(aws_stack, "aws:rds/parameterGroup:ParameterGroup")
    assert {"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"} in params["parameters"]
    assert db["parameterGroupName"] == f"slipway-{aws_stack.stack}-db-params"


def test_database_password_is_managed_by_rds(aws_stack: StackRun) -> None:
    (db,) = plain(aws_stack, RDS)
    assert db["manageMasterUserPassword"] is True
    assert "password" not in db
    assert db["masterUserSecretKmsKeyId"] == aws_stack.outputs["kmsKeyArn"]


def test_database_keeps_backups(aws_stack: StackRun) -> None:
    (db,) = plain(aws_stack, RDS)
    minimum = 7 if aws_stack.stack == "aws-prod" else 1
    assert db["backupRetentionPeriod"] >= minimum
    assert db["copyTagsToSnapshot"] is True


def test_prod_database_is_multi_az_protected_and_snapshotted(aws_prod: StackRun) -> None:
    (db,) = plain(aws_prod, RDS)
    assert db["multiAz"] is True
    assert db["deletionProtection"] is True
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"]
    assert db["performanceInsightsEnabled"] is True
    assert db["performanceInsightsKmsKeyId"] == aws_prod.outputs["kmsKeyArn"]


def test_cache_encrypts_in_transit_and_at_rest(aws_stack: StackRun) -> None:
    (redis,) = plain(aws_stack, REDIS)
    assert redis["atRestEncryptionEnabled"] is True
    assert redis["kmsKeyId"] == aws_stack.outputs["kmsKeyArn"]
    assert redis["transitEncryptionEnabled"] is True
    assert redis["transitEncryptionMode"] == "required"


def test_cache_auth_token_is_a_secret(aws_stack: StackRun) -> None:
    (redis,) = aws_stack.of_type(REDIS)
    assert secret_paths(redis.inputs) == ["authToken"]
    (version,) = aws_stack.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert secret_paths(version.inputs) == ["secretString"]


def test_prod_cache_fails_over_across_zones(aws_prod: StackRun) -> None:
    (redis,) = plain(aws_prod, REDIS)
    assert redis["numCacheClusters"] >= 2
    assert redis["automaticFailoverEnabled"] is True
    assert redis["multiAzEnabled"] is True


@pytest.mark.parametrize(
    ("type_", "check"),
    [
        (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            lambda r: all(
                r[k] is True
                for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            ),
        ),
        (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            lambda r: r["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms",
        ),
        (
            "aws:s3/bucketVersioning:BucketVersioning",
            lambda r: r["versioningConfiguration"]["status"] == "Enabled",
        ),
        (
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            lambda r: r["rule"]["objectOwnership"] == "BucketOwnerEnforced",
        ),
        (
            "aws:s3/bucketPolicy:BucketPolicy",
            lambda r: (
                json.loads(r["policy"])["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            ),
        ),
    ],
    ids=["public-access-blocked", "kms-encrypted", "versioned", "no-acls", "tls-only"],
)
@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_bucket_is_private_encrypted_and_versioned(stack: str, type_: str, check: Any) -> None:
    run = stack_run(stack)
    buckets = {f"{r.name}-id" for r in run.of_type(BUCKET)}
    settings = plain(run, type_)
    assert {s["bucket"] for s in settings} == buckets
    assert all(check(s) for s in settings)


def test_vpc_traffic_is_logged_to_an_encrypted_group(aws_stack: StackRun) -> None:
    (flow_log,) = plain(aws_stack, "aws:ec2/flowLog:FlowLog")
    assert flow_log["trafficType"] == "ALL"
    assert flow_log["vpcId"] == aws_stack.outputs["vpcId"]
    (group,) = plain(aws_stack, "aws:cloudwatch/logGroup:LogGroup")
    assert group["kmsKeyId"] == aws_stack.outputs["kmsKeyArn"]
    assert group["retentionInDays"] >= 30
    assert (
        flow_log["logDestination"]
        == f"arn:aws:cloudwatch:eu-west-1:123456789012:{aws_stack.one('aws:cloudwatch/logGroup:LogGroup').name}"
    )


def test_kms_key_rotates(aws_stack: StackRun) -> None:
    for key in plain(aws_stack, "aws:kms/key:Key"):
        assert key["enableKeyRotation"] is True
        statements = json.loads(key["policy"])["Statement"]
        assert all(s["Effect"] == "Allow" for s in statements)
        assert {json.dumps(s["Principal"]) for s in statements} <= {
            '{"AWS": "arn:aws:iam::123456789012:root"}',
            '{"Service": "cloudwatch.amazonaws.com"}',
            '{"Service": "logs.eu-west-1.amazonaws.com"}',
        }
        # Only the account itself gets more than the use of the key.
        for statement in statements:
            if "Service" in statement["Principal"]:
                assert "kms:*" not in statement["Action"]
                assert statement["Condition"]


def test_topic_and_secrets_are_encrypted_with_the_stack_key(aws_stack: StackRun) -> None:
    key_arn = aws_stack.outputs["kmsKeyArn"]
    (topic,) = plain(aws_stack, "aws:sns/topic:Topic")
    assert topic["kmsMasterKeyId"] == key_arn
    for secret in plain(aws_stack, "aws:secretsmanager/secret:Secret"):
        assert secret["kmsKeyId"] == key_arn


def test_instance_roles_are_least_privilege(aws_stack: StackRun) -> None:
    for policy in plain(aws_stack, "aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(action == "*" or action.endswith(":*") for action in actions)
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert "*" not in resources
    attached = {p["policyArn"] for p in plain(aws_stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert attached == {
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    }


def test_only_app_hosts_may_touch_videos(aws_stack: StackRun) -> None:
    videos_arn = f"arn:aws:s3:eu-west-1:123456789012:slipway-{aws_stack.stack}-videos"
    granting = [p.name for p in aws_stack.of_type("aws:iam/rolePolicy:RolePolicy") if videos_arn in p.plain["policy"]]
    assert granting == [f"slipway-{aws_stack.stack}-host-app-buckets"]


def test_every_host_and_datastore_has_an_alarm_to_the_topic(aws_stack: StackRun) -> None:
    alarms = plain(aws_stack, "aws:cloudwatch/metricAlarm:MetricAlarm")
    topic = aws_stack.outputs["alarmTopicArn"]
    for alarm in alarms:
        assert alarm["alarmActions"] == [topic]
        assert alarm["okActions"] == [topic]
    watched = {value for alarm in alarms for value in alarm["dimensions"].values()}
    instance_ids = {f"{r.name}-id" for r in aws_stack.of_type(INSTANCE)}
    assert instance_ids <= watched
    assert f"slipway-{aws_stack.stack}-db-postgres" in watched
    assert any(value.startswith(f"slipway-{aws_stack.stack}-redis-") for value in watched)


def test_prod_spans_three_zones_with_a_nat_per_zone(aws_prod: StackRun) -> None:
    zones = {s["availabilityZone"] for s in plain(aws_prod, "aws:ec2/subnet:Subnet")}
    assert len(zones) == 3
    assert len(plain(aws_prod, "aws:ec2/natGateway:NatGateway")) == 3
    app_subnets = {i["subnetId"] for i in plain(aws_prod, INSTANCE) if i["tags"]["Group"] == "app"}
    assert len(app_subnets) == 3


def test_prod_hosts_are_termination_protected(aws_prod: StackRun) -> None:
    assert all(i["disableApiTermination"] is True for i in plain(aws_prod, INSTANCE))


def _taggable(type_: str) -> bool:
    _, module_path, class_name = type_.split(":")
    module_name = module_path.split("/")[0]
    module = importlib.import_module("pulumi_aws" if module_name == "index" else f"pulumi_aws.{module_name}")
    return "tags" in inspect.signature(getattr(module, class_name)._internal_init).parameters


def test_every_taggable_resource_is_tagged(aws_stack: StackRun) -> None:
    taggable = [r for r in aws_stack.custom if r.type.startswith("aws:") and _taggable(r.type)]
    assert len(taggable) > 50
    for resource in taggable:
        tags = resource.plain.get("tags", {})
        missing = [key for key in REQUIRED_TAGS if key not in tags]
        assert not missing, f"{resource.name} lacks tags {missing}"
        assert tags["Stack"] == aws_stack.stack


def test_no_secret_reaches_plain_inputs_or_outputs(aws_stack: StackRun) -> None:
    exported = json.dumps(aws_stack.outputs)
    for resource in aws_stack.resources:
        unwrapped_elsewhere = json.dumps({k: v for k, v in resource.inputs.items() if not secret_paths(v)})
        for value in TEST_SECRETS.values():
            assert value not in unwrapped_elsewhere, resource.name
            assert value not in exported
