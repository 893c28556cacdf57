"""Secrets and certificates are generated once per environment and kept private."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

from cryptography import x509

from ops.fleet import secrets, tls
from ops.fleet.state import EnvPaths


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_secrets_generates_once_and_keeps_values(tmp_path: Path) -> None:
    paths = EnvPaths.for_env("unit", tmp_path)

    first = secrets.ensure_secrets(paths)
    second = secrets.ensure_secrets(paths)

    assert first == second
    assert set(first) == set(secrets.SECRET_SPECS)
    assert len(first["app_secret_key"]) == 64
    assert all(value.isalnum() for value in first.values())
    assert len(set(first.values())) == len(first)
    assert _mode(paths.secrets_dir / "app_secret_key") == 0o600
    assert _mode(paths.root) == 0o700


def test_ensure_secrets_reads_values_in_the_password_lookup_format(tmp_path: Path) -> None:
    paths = EnvPaths.for_env("unit", tmp_path)
    paths.secrets_dir.mkdir(parents=True)
    (paths.secrets_dir / "redis_app_password").write_text("fromansible salt=abc\n")

    assert secrets.ensure_secrets(paths)["redis_app_password"] == "fromansible"


def test_ensure_secrets_differ_between_environments(tmp_path: Path) -> None:
    one = secrets.ensure_secrets(EnvPaths.for_env("one", tmp_path))
    two = secrets.ensure_secrets(EnvPaths.for_env("two", tmp_path))

    assert not set(one.values()) & set(two.values())


def test_ensure_ssh_key_creates_a_private_ed25519_key(tmp_path: Path) -> None:
    paths = EnvPaths.for_env("unit", tmp_path)

    secrets.ensure_ssh_key(paths)

    assert paths.ssh_key.with_suffix(".pub").read_text().startswith("ssh-ed25519 ")
    assert _mode(paths.ssh_key) == 0o600


def test_server_cert_verifies_against_the_env_ca(tmp_path: Path) -> None:
    cert, key = tls.ensure_server_cert(
        tmp_path / "certs",
        tmp_path / "ca",
        "lb",
        dns_names=["lb", "localhost"],
        ip_addresses=["172.29.0.10", "127.0.0.1"],
        env="unit",
    )

    leaf = x509.load_pem_x509_certificates(cert.read_bytes())[0]
    ca = x509.load_pem_x509_certificate((tmp_path / "ca" / "ca.crt").read_bytes())
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["lb", "localhost"]
    assert _mode(key) == 0o600
    # The chain and key load into a TLS server context, as nginx would use them.
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)


def _issue_db_cert(root: Path) -> bytes:
    cert, _ = tls.ensure_server_cert(
        root / "certs", root / "ca", "db", dns_names=["db"], ip_addresses=["172.29.0.20"], env="unit"
    )
    return cert.read_bytes()


def test_ensure_server_cert_keeps_an_existing_certificate(tmp_path: Path) -> None:
    assert _issue_db_cert(tmp_path) == _issue_db_cert(tmp_path)
