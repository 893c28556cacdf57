"""LB: the nginx reverse proxy. Directives are read from `nginx -T`, the
configuration nginx actually loads; TLS and headers are probed on the lb itself."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.compliance.checklist import control
from tests.compliance.target import Target

GROUP = "lb"


def _directive(target: Target, name: str) -> list[str]:
    """Values of every occurrence of a directive in `nginx -T`, comments stripped."""
    values = []
    for raw in target.nginx.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(f"{name} ") and line.endswith(";"):
            values.append(line[len(name) :].strip().rstrip(";").strip())
    return values


# An HTTP probe with the lb's own python3 (present on every host Ansible manages): no redirects
# followed, certificate not verified (the point is the headers, LB-13 checks the certificate).
HTTP_PROBE = """
import json, ssl, sys, urllib.error, urllib.request
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=context))
request = urllib.request.Request(sys.argv[2], method=sys.argv[1])
try:
    response = opener.open(request, timeout=10)
except urllib.error.HTTPError as error:
    response = error
headers = {k.lower(): v for k, v in response.headers.items()}
headers[":status"] = str(response.status if hasattr(response, "status") else response.code)
print(json.dumps(headers))
"""


def _curl_headers(target: Target, url: str, method: str = "GET") -> dict[str, str]:
    return dict(json.loads(target.output("python3", "-c", HTTP_PROBE, method, url)))


@control("LB-01")
def test_nginx_installed(host: Any) -> None:
    assert host.package("nginx").is_installed


@control("LB-01")
def test_nginx_enabled_and_running(host: Any) -> None:
    nginx = host.service("nginx")
    assert nginx.is_enabled
    assert nginx.is_running


@control("LB-01")
def test_single_nginx_master(host: Any) -> None:
    masters = [p for p in host.process.filter(comm="nginx") if "master process" in p.args]
    assert len(masters) == 1


@control("LB-02")
def test_config_valid(host: Any) -> None:
    assert host.run("nginx -t").rc == 0


@control("LB-03")
def test_workers_run_as_www_data(target: Target) -> None:
    assert _directive(target, "user") == ["www-data"]


@control("LB-03")
def test_www_data_has_no_login_shell(host: Any) -> None:
    assert host.user("www-data").shell in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")


@control("LB-04")
def test_nginx_conf_permissions(target: Target) -> None:
    f = target.file("/etc/nginx/nginx.conf")
    assert (f.mode, f.user, f.group) == (0o640, "root", "root")


@control("LB-04")
def test_nginx_tree_not_group_or_world_writable(target: Target) -> None:
    assert target.shell("find /etc/nginx -perm /022 ! -type l -print").split() == []


@control("LB-05")
@pytest.mark.parametrize("path", ["/etc/nginx/sites-enabled/default", "/etc/nginx/conf.d/default.conf"])
def test_default_site_removed(target: Target, path: str) -> None:
    assert not target.file(path).exists


@control("LB-06")
def test_server_tokens_off(target: Target) -> None:
    assert _directive(target, "server_tokens") == ["off"]


@control("LB-07")
@pytest.mark.parametrize(
    ("directive", "value"),
    [("client_header_buffer_size", "1k"), ("large_client_header_buffers", "2 1k")],
)
def test_header_buffers(target: Target, directive: str, value: str) -> None:
    assert _directive(target, directive) == [value]


@control("LB-07")
def test_client_body_buffer_size_set(target: Target) -> None:
    assert _directive(target, "client_body_buffer_size")


@control("LB-08")
def test_client_max_body_size_explicit(target: Target, expected: dict[str, Any]) -> None:
    assert _directive(target, "client_max_body_size") == [expected["nginx"]["client_max_body_size"]]


@control("LB-09")
@pytest.mark.parametrize(
    ("directive", "values"),
    [
        ("keepalive_timeout", ["5 5", "5s 5s"]),
        ("client_body_timeout", ["10", "10s"]),
        ("client_header_timeout", ["10", "10s"]),
        ("send_timeout", ["10", "10s"]),
    ],
)
def test_timeouts(target: Target, directive: str, values: list[str]) -> None:
    # The first occurrence is the http-level one (nginx.conf); upstream blocks have their own.
    found = _directive(target, directive)
    assert found
    assert found[0] in values


@control("LB-10")
def test_connection_limit_zone(target: Target) -> None:
    assert "$binary_remote_addr zone=default:10m" in _directive(target, "limit_conn_zone")


@control("LB-10")
def test_connection_limit_per_client(target: Target, expected: dict[str, Any]) -> None:
    limits = [int(v.split()[1]) for v in _directive(target, "limit_conn") if v.startswith("default ")]
    assert limits
    assert all(0 < n <= expected["nginx"]["limit_conn_max"] for n in limits)


@control("LB-10")
def test_request_rate_limit_on_api(target: Target) -> None:
    assert _directive(target, "limit_req")


@control("LB-11")
def test_ssl_protocols(target: Target) -> None:
    assert set(_directive(target, "ssl_protocols")) == {"TLSv1.2 TLSv1.3"}


@control("LB-11")
@pytest.mark.parametrize("protocol", ["-tls1", "-tls1_1"])
def test_old_tls_handshake_refused(host: Any, protocol: str) -> None:
    result = host.run(f"openssl s_client -connect 127.0.0.1:443 {protocol} -brief </dev/null")
    assert result.rc != 0
    assert "Protocol  :" not in result.stdout + result.stderr


@control("LB-11")
def test_tls12_handshake_accepted(host: Any) -> None:
    result = host.run("openssl s_client -connect 127.0.0.1:443 -tls1_2 -brief </dev/null")
    assert "TLSv1.2" in result.stdout + result.stderr


@control("LB-12")
@pytest.mark.parametrize(("directive", "value"), [("ssl_session_tickets", "off"), ("ssl_prefer_server_ciphers", "on")])
def test_tls_parameter(target: Target, directive: str, value: str) -> None:
    assert set(_directive(target, directive)) == {value}


@control("LB-12")
def test_tls_ciphers_are_forward_secret_aead_or_sha2(target: Target) -> None:
    ciphers = [c for v in _directive(target, "ssl_ciphers") for c in v.strip("'\"").split(":")]
    assert ciphers
    assert all(c.startswith("ECDHE-") and not c.endswith(("-SHA", "MD5")) for c in ciphers)


@control("LB-12")
def test_dhparam_4096_bits(target: Target) -> None:
    paths = _directive(target, "ssl_dhparam")
    assert paths
    assert "4096 bit" in target.output("openssl", "dhparam", "-in", paths[0], "-noout", "-text").splitlines()[0]


def _certificate_and_key(target: Target) -> tuple[str, str]:
    return _directive(target, "ssl_certificate")[0], _directive(target, "ssl_certificate_key")[0]


@control("LB-13")
def test_tls_key_private(target: Target) -> None:
    f = target.file(_certificate_and_key(target)[1])
    assert (f.mode, f.user, f.group) == (0o600, "root", "root")


@control("LB-13")
def test_certificate_valid_for_30_days(target: Target) -> None:
    cert = _certificate_and_key(target)[0]
    assert target.host.run(f"openssl x509 -checkend 2592000 -noout -in {cert}").rc == 0


@control("LB-13")
def test_certificate_chain_complete(target: Target) -> None:
    cert = _certificate_and_key(target)[0]
    assert target.output("grep", "-c", "BEGIN CERTIFICATE", cert).strip() >= "2"


@control("LB-14")
def test_hsts(target: Target) -> None:
    header = _curl_headers(target, "https://127.0.0.1/health/live").get("strict-transport-security", "")
    match = re.search(r"max-age=(\d+)", header)
    assert match
    assert int(match.group(1)) >= 15768000


@control("LB-15")
@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("x-frame-options", ["SAMEORIGIN", "DENY"]),
        ("x-content-type-options", ["nosniff"]),
        ("x-xss-protection", ["1; mode=block", "0"]),
        (
            "content-security-policy",
            ["default-src 'none'; frame-ancestors 'none'", "script-src 'self'; object-src 'self'"],
        ),
    ],
)
def test_security_header(target: Target, header: str, allowed: list[str]) -> None:
    assert _curl_headers(target, "https://127.0.0.1/health/live").get(header) in allowed


@control("LB-16")
def test_unlisted_method_refused(target: Target) -> None:
    assert _curl_headers(target, "https://127.0.0.1/health/live", "TRACE")[":status"] == "405"


@control("LB-16")
def test_method_allowlist_matches_api(target: Target, expected: dict[str, Any]) -> None:
    methods = "|".join(expected["nginx"]["allowed_methods"])
    assert f"if ($request_method !~ ^({methods})$)" in target.nginx


@control("LB-17")
def test_http_redirects_to_https(target: Target) -> None:
    headers = _curl_headers(target, "http://127.0.0.1/health/live")
    assert headers[":status"] in ("301", "308")
    assert headers.get("location", "").startswith("https://")


@control("LB-18")
def test_upstreams_are_app_private_addresses(target: Target, expected: dict[str, Any]) -> None:
    servers = [v.split()[0] for v in _directive(target, "server") if re.match(r"\d+\.\d+\.\d+\.\d+:\d+", v)]
    app_ips = set(target.var("compliance_app_ips") or expected.get("app_ips") or [])
    assert servers
    assert not app_ips or {s.rsplit(":", 1)[0] for s in servers} <= app_ips


@control("LB-18")
@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Forwarded-Proto"])
def test_forwarded_headers_set(target: Target, header: str) -> None:
    assert any(v.startswith(f"{header} ") for v in _directive(target, "proxy_set_header"))


@control("LB-18")
def test_proxy_pass_only_to_upstream(target: Target) -> None:
    targets = set(_directive(target, "proxy_pass"))
    assert targets
    assert all(re.match(r"https?://slipway_api\b", t) for t in targets)


@control("LB-19")
def test_access_and_error_logs_on(target: Target) -> None:
    # Single locations (stub_status) may turn access logging off; the http-level log stays on.
    assert _directive(target, "access_log")[0] != "off"
    assert _directive(target, "error_log")


@control("LB-19")
def test_log_directory(target: Target) -> None:
    f = target.file("/var/log/nginx")
    assert f.user == "root"
    assert f.group == "adm"
    assert f.mode & 0o002 == 0


@control("LB-19")
def test_log_files_private(target: Target) -> None:
    out = target.shell("stat -c '%n %a %U %G' /var/log/nginx/*.log")
    bad = [line for line in out.splitlines() if line.split()[1] not in ("640", "600") or line.split()[3] != "adm"]
    assert bad == []


@control("LB-20")
def test_public_listeners_only_http_and_https(target: Target) -> None:
    public = {port for _, address, port in target.listeners if address in ("0.0.0.0", "::", "*")}  # noqa: S104
    assert public <= {80, 443}
