"""DB: PostgreSQL 15. Settings come from pg_settings and the catalogs,
queried as the postgres superuser over the local socket (peer authentication)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "db"


def _hba_rules(target: Target) -> list[dict[str, str]]:
    rows = target.psql(
        "select type, coalesce(array_to_string(database, ','), ''), coalesce(array_to_string(user_name, ','), ''), "
        "coalesce(address, ''), coalesce(auth_method, ''), coalesce(error, '') from pg_hba_file_rules"
    )
    return [
        dict(zip(("type", "database", "user", "address", "method", "error"), row + [""] * (6 - len(row)), strict=False))
        for row in rows
    ]


@control("DB-01")
def test_postgresql_15_installed(host: Any) -> None:
    package = host.package("postgresql-15")
    assert package.is_installed
    assert not re.search(r"(beta|rc)\d", package.version)


@control("DB-02")
def test_single_online_cluster(target: Target) -> None:
    clusters = [line for line in target.output("pg_lsclusters", "--no-header").splitlines() if line.strip()]
    assert len(clusters) == 1
    assert "online" in clusters[0]


@control("DB-02")
def test_single_postmaster(target: Target) -> None:
    rows = [line.split() for line in target.shell("ps -u postgres -o ppid=,comm= || true").splitlines()]
    assert len([r for r in rows if r == ["1", "postgres"]]) == 1


@control("DB-03")
def test_cluster_service_enabled_and_running(host: Any) -> None:
    service = host.service("postgresql@15-main")
    assert service.is_running
    assert host.service("postgresql").is_enabled


@control("DB-04")
def test_listen_addresses(target: Target) -> None:
    assert set(target.pg_settings["listen_addresses"].split(",")) == {"localhost", target.private_ip}


@control("DB-04")
def test_port_5432_only_on_loopback_and_private(target: Target) -> None:
    addresses = {address for _, address, port in target.listeners if port == 5432}
    assert addresses
    assert addresses <= {"127.0.0.1", "::1", target.private_ip}


@control("DB-05")
def test_ssl_on(target: Target) -> None:
    assert target.pg_settings["ssl"] == "on"


@control("DB-05")
def test_certificate_not_snakeoil(target: Target) -> None:
    assert "snakeoil" not in target.pg_settings["ssl_cert_file"] + target.pg_settings["ssl_key_file"]


@control("DB-05")
def test_key_private(target: Target) -> None:
    f = target.file(target.pg_settings["ssl_key_file"])
    assert (f.mode, f.user) == (0o600, "postgres") or (f.mode, f.user, f.group) == (0o640, "root", "ssl-cert")


@control("DB-06")
def test_tls_floor(target: Target) -> None:
    assert target.pg_settings["ssl_min_protocol_version"] in ("TLSv1.2", "TLSv1.3")


@control("DB-06")
def test_tls_ciphers_exclude_weak_suites(target: Target) -> None:
    ciphers = target.pg_settings["ssl_ciphers"]
    assert ciphers == "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH" or ciphers.startswith("HIGH")


@control("DB-07")
def test_password_encryption_scram(target: Target) -> None:
    assert target.pg_settings["password_encryption"] == "scram-sha-256"


@control("DB-07")
def test_all_password_hashes_scram(target: Target) -> None:
    rows = target.psql(
        "select rolname from pg_authid where rolpassword is not null and rolpassword not like 'SCRAM-SHA-256$%'"
    )
    assert rows == []


@control("DB-08")
def test_local_lines_use_peer(target: Target) -> None:
    local = [r for r in _hba_rules(target) if r["type"] == "local"]
    assert local
    assert all(r["method"] == "peer" for r in local)


@control("DB-09")
def test_remote_lines_hostssl_scram_only(target: Target) -> None:
    remote = [r for r in _hba_rules(target) if r["type"] != "local" and r["method"] != "reject"]
    assert all(r["type"] == "hostssl" and r["method"] == "scram-sha-256" for r in remote), remote


@control("DB-09")
def test_remote_sources_are_fleet_hosts(target: Target, expected: dict[str, Any]) -> None:
    allowed = set(target.var("compliance_db_client_ips") or []) or None
    # Explicit `reject` lines (deny everything else) are not grants.
    remote = [r for r in _hba_rules(target) if r["type"] != "local" and r["method"] != "reject"]
    addresses = {r["address"] for r in remote}
    assert "" not in addresses
    assert "0.0.0.0" not in addresses  # noqa: S104
    assert "::" not in addresses
    assert allowed is None or addresses <= allowed


@control("DB-09")
def test_no_trust_or_password_methods(target: Target) -> None:
    assert [r for r in _hba_rules(target) if r["method"] in ("trust", "password", "md5", "ident")] == []


@control("DB-10")
def test_every_login_role_has_password(target: Target) -> None:
    assert target.psql("select usename from pg_shadow where passwd is null") == []


@control("DB-11")
def test_one_privileged_role(target: Target) -> None:
    rows = target.psql(
        "select rolname from pg_roles where (rolsuper or rolcreaterole or rolcreatedb) and rolname !~ '^pg_'"
    )
    assert [r[0] for r in rows] == ["postgres"]


@control("DB-11")
def test_app_role_unprivileged(target: Target, expected: dict[str, Any]) -> None:
    user = expected["postgres"]["app_user"]
    columns = "rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
    rows = target.psql(f"select {columns} from pg_roles where rolname = '{user}'")  # noqa: S608
    assert rows == [["f", "f", "f", "f", "f"]]


@control("DB-11")
def test_owner_and_app_roles_split(target: Target, expected: dict[str, Any]) -> None:
    database = expected["postgres"]["database"]
    owner = target.psql(f"select pg_get_userbyid(datdba) from pg_database where datname = '{database}'")  # noqa: S608
    assert owner
    assert owner[0][0] not in (expected["postgres"]["app_user"], "postgres")


@control("DB-12")
def test_only_postgres_has_grants_on_pg_authid(target: Target) -> None:
    rows = target.psql(
        "select distinct grantee from information_schema.role_table_grants where table_name = 'pg_authid'"
    )
    assert {r[0] for r in rows} <= {"postgres"}


@control("DB-13")
def test_no_public_table_grants(target: Target, expected: dict[str, Any]) -> None:
    database = expected["postgres"]["database"]
    out = target.output(
        "runuser",
        "-u",
        "postgres",
        "--",
        "psql",
        "-XAt",
        "-d",
        database,
        "-c",
        "select table_schema || '.' || table_name from information_schema.role_table_grants "
        "where grantee = 'PUBLIC' and table_schema not in ('pg_catalog', 'information_schema')",
    )
    assert out.split() == []


@control("DB-13")
def test_no_grant_option_except_postgres(target: Target, expected: dict[str, Any]) -> None:
    database = expected["postgres"]["database"]
    out = target.output(
        "runuser",
        "-u",
        "postgres",
        "--",
        "psql",
        "-XAt",
        "-d",
        database,
        "-c",
        "select distinct grantee from information_schema.role_table_grants where is_grantable = 'YES' "
        "and grantee <> 'postgres' and table_schema not in ('pg_catalog', 'information_schema') "
        "and grantee <> (select pg_get_userbyid(datdba) from pg_database where datname = current_database())",
    )
    assert out.split() == []


@control("DB-13")
def test_public_schema_create_revoked(target: Target, expected: dict[str, Any]) -> None:
    database = expected["postgres"]["database"]
    out = target.output(
        "runuser",
        "-u",
        "postgres",
        "--",
        "psql",
        "-XAt",
        "-d",
        database,
        "-c",
        "select has_schema_privilege('public', 'public', 'CREATE')",
    )
    assert out.strip() == "f"


@control("DB-14")
def test_no_security_definer_functions(target: Target, expected: dict[str, Any]) -> None:
    database = expected["postgres"]["database"]
    out = target.output(
        "runuser",
        "-u",
        "postgres",
        "--",
        "psql",
        "-XAt",
        "-d",
        database,
        "-c",
        "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')",
    )
    assert set(out.split()) <= set(expected["postgres"].get("security_definer_allowlist", []))


@control("DB-15")
def test_only_trusted_languages(target: Target) -> None:
    assert {r[0] for r in target.psql("select lanname from pg_language")} <= {"internal", "c", "sql", "plpgsql"}


@control("DB-16")
@pytest.mark.parametrize(
    ("name", "mode"),
    [("", 0o700), ("postgresql.conf", 0o640), ("pg_hba.conf", 0o600), ("pg_ident.conf", 0o600)],
    ids=["conf_dir", "postgresql.conf", "pg_hba.conf", "pg_ident.conf"],
)
def test_config_permissions(target: Target, name: str, mode: int) -> None:
    f = target.file(f"/etc/postgresql/15/main/{name}".rstrip("/"))
    assert (f.mode, f.user) == (mode, "postgres")


@control("DB-17")
def test_data_directory(target: Target) -> None:
    f = target.file(target.pg_settings["data_directory"])
    assert (f.mode, f.user) == (0o700, "postgres")


@control("DB-18")
def test_log_directory(target: Target) -> None:
    directory = target.pg_settings["log_directory"]
    f = target.file(directory)
    assert f.user == "postgres"
    assert f.mode == 0o700


@control("DB-18")
def test_log_file_mode(target: Target) -> None:
    assert target.pg_settings["log_file_mode"] == "0600"


@control("DB-19")
def test_logging_collector_on(target: Target) -> None:
    assert target.pg_settings["logging_collector"] == "on"


@control("DB-19")
def test_log_directory_absolute(target: Target) -> None:
    assert target.pg_settings["log_directory"].startswith("/")


@control("DB-19")
def test_log_filename_dated(target: Target) -> None:
    assert "%" in target.pg_settings["log_filename"]


@control("DB-19")
def test_log_rotation(target: Target) -> None:
    settings = target.pg_settings
    assert int(settings["log_rotation_age"]) > 0
    assert int(settings["log_rotation_size"]) > 0
    assert settings["log_truncate_on_rotation"] == "on"


@control("DB-20")
@pytest.mark.parametrize("setting", ["log_connections", "log_disconnections"])
def test_connection_logging(target: Target, setting: str) -> None:
    assert target.pg_settings[setting] == "on"


@control("DB-21")
def test_log_line_prefix(target: Target) -> None:
    prefix = target.pg_settings["log_line_prefix"]
    assert all(escape in prefix for escape in ("%m", "%p", "%d", "%u", "%a", "%h"))


@control("DB-21")
def test_log_hostname_off(target: Target) -> None:
    assert target.pg_settings["log_hostname"] == "off"


@control("DB-22")
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("log_statement", "ddl"),
        ("log_min_messages", "warning"),
        ("log_min_error_statement", "error"),
        ("debug_print_parse", "off"),
        ("debug_print_rewritten", "off"),
        ("debug_print_plan", "off"),
        ("debug_pretty_print", "on"),
        ("log_timezone", "UTC"),
    ],
)
def test_log_verbosity(target: Target, setting: str, value: str) -> None:
    assert target.pg_settings[setting] == value


@control("DB-23")
def test_pgaudit_installed(host: Any) -> None:
    assert host.package("postgresql-15-pgaudit").is_installed


@control("DB-23")
def test_pgaudit_preloaded(target: Target) -> None:
    assert "pgaudit" in target.pg_settings["shared_preload_libraries"].split(",")


@control("DB-23")
def test_pgaudit_logs_ddl_and_role(target: Target) -> None:
    classes = set(target.psql("show pgaudit.log")[0][0].replace(" ", "").split(","))
    assert {"ddl", "role"} <= classes or "all" in classes


@control("DB-24")
def test_postgres_unix_password_locked(target: Target) -> None:
    hashed = target.shell("awk -F: '$1 == \"postgres\" {print $2}' /etc/shadow").strip()
    assert hashed[:1] in ("!", "*")


@control("DB-24")
def test_no_pgpassword_exported(target: Target) -> None:
    assert (
        target.shell(
            "grep -rs PGPASSWORD /etc/environment /etc/profile /etc/profile.d "
            "/var/lib/postgresql/.profile /var/lib/postgresql/.bashrc || true"
        ).strip()
        == ""
    )


@control("DB-24")
def test_psql_history_disabled(target: Target) -> None:
    history = target.file("/var/lib/postgresql/.psql_history")
    assert not history.exists or (history.is_symlink and history.linked_to == "/dev/null")


@control("DB-25")
def test_app_role_connection_limit(target: Target, expected: dict[str, Any]) -> None:
    user = expected["postgres"]["app_user"]
    rows = target.psql(f"select rolconnlimit from pg_roles where rolname = '{user}'")  # noqa: S608
    assert rows
    assert int(rows[0][0]) > 0


@control("DB-25")
def test_authentication_timeout(target: Target) -> None:
    assert 0 < int(target.pg_settings["authentication_timeout"]) <= 60


@control("DB-27")
def test_firewall_limits_postgres_to_app_hosts(target: Target) -> None:
    chain = target.input_chain
    rules = [line for line in chain.splitlines() if "5432" in line and "accept" in line]
    assert rules
    assert all("saddr" in line for line in rules)


@control("DB-27")
def test_firewall_limits_exporter_to_mon(target: Target) -> None:
    chain = target.input_chain
    rules = [line for line in chain.splitlines() if "9187" in line and "accept" in line]
    assert all("saddr" in line for line in rules)
