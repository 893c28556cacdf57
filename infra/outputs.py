"""Names of the stack outputs, shared by the program, ops (inventory, releases) and the tests."""

from __future__ import annotations

from typing import Final

PLATFORM: Final = "platform"
ENVIRONMENT: Final = "environment"
DOMAIN: Final = "domain"

# aws: what ops.stack_inventory turns into the Ansible inventory and group vars.
AWS_REGION: Final = "awsRegion"
VPC_ID: Final = "vpcId"
SSH_ACCESS: Final = "sshAccess"  # true: SSH through the lb host; false: SSM Session Manager
SSH_USER: Final = "sshUser"
LB_PUBLIC_IP: Final = "lbPublicIp"
LB_HOST: Final = "lbHost"
APP_HOSTS: Final = "appHosts"
MON_HOST: Final = "monHost"
DB_ENDPOINT: Final = "dbEndpoint"
DB_PORT: Final = "dbPort"
DB_NAME: Final = "dbName"
DB_USERNAME: Final = "dbUsername"
DB_PASSWORD_SECRET_ARN: Final = "dbPasswordSecretArn"  # noqa: S105 - an output name
CACHE_ENDPOINT: Final = "cacheEndpoint"
CACHE_PORT: Final = "cachePort"
CACHE_AUTH_SECRET_ARN: Final = "cacheAuthSecretArn"  # noqa: S105 - an output name
VIDEO_BUCKET: Final = "videoBucket"
OPS_BUCKET: Final = "opsBucket"
ALARM_TOPIC_ARN: Final = "alarmTopicArn"
KMS_KEY_ARN: Final = "kmsKeyArn"

# kubernetes: what the release engine's kubernetes driver needs.
NAMESPACE: Final = "namespace"
API_DEPLOYMENT: Final = "apiDeployment"
WORKER_DEPLOYMENT: Final = "workerDeployment"  # the first worker's; only when the app has one
MIGRATION_JOB: Final = "migrationJob"  # only when the app has a migrate command
DEPLOYMENTS: Final = "deployments"  # every Deployment of the app, the web process's first
IMAGE: Final = "image"
RELEASE_STATE: Final = "releaseState"  # the StatefulSet that keeps the lock, journal, history, audit
URL: Final = "url"

AWS_OUTPUTS: Final = (
    PLATFORM,
    ENVIRONMENT,
    DOMAIN,
    AWS_REGION,
    VPC_ID,
    SSH_ACCESS,
    SSH_USER,
    LB_PUBLIC_IP,
    LB_HOST,
    APP_HOSTS,
    MON_HOST,
    DB_ENDPOINT,
    DB_PORT,
    DB_NAME,
    DB_USERNAME,
    DB_PASSWORD_SECRET_ARN,
    CACHE_ENDPOINT,
    CACHE_PORT,
    CACHE_AUTH_SECRET_ARN,
    VIDEO_BUCKET,
    OPS_BUCKET,
    ALARM_TOPIC_ARN,
    KMS_KEY_ARN,
)
KUBERNETES_OUTPUTS: Final = (
    PLATFORM,
    ENVIRONMENT,
    DOMAIN,
    NAMESPACE,
    API_DEPLOYMENT,
    WORKER_DEPLOYMENT,
    MIGRATION_JOB,
    DEPLOYMENTS,
    IMAGE,
    RELEASE_STATE,
    URL,
)
# Left out by an app without a worker or a migrate command.
KUBERNETES_OPTIONAL_OUTPUTS: Final = (WORKER_DEPLOYMENT, MIGRATION_JOB)
