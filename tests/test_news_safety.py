"""The address policy: what the fetcher may connect to, judged after resolution."""

from __future__ import annotations

import ipaddress

import pytest

from extractor import InputError
from extractor.input.safety import AddressPolicy, AddressRefused, check_scheme

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "0.0.0.0",
    "::",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.1.1",  # link-local
    "fe80::1",
    "fc00::1",  # unique local
    "224.0.0.1",  # multicast (is_global is True for it)
    "ff02::1",
    "240.0.0.1",  # reserved
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
]
METADATA = ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254"]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001:82a::200e"]


@pytest.mark.parametrize("address", REFUSED + METADATA)
def test_non_public_addresses_are_refused_by_default(address):
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", METADATA)
def test_cloud_metadata_stays_refused_with_allow_private(address):
    reason = AddressPolicy(allow_private=True).refusal(ipaddress.ip_address(address))
    assert reason == "a cloud metadata address"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "::1", "192.168.1.1"])
def test_allow_private_opens_private_networks(address):
    assert AddressPolicy(allow_private=True).refusal(ipaddress.ip_address(address)) is None


def test_allow_network_opens_only_the_networks_named():
    policy = AddressPolicy.of(allow_networks=["127.0.0.1/32", "10.20.0.0/16"])
    allowed = [
        policy.refusal(ipaddress.ip_address(a)) is None for a in ("127.0.0.1", "10.20.3.4", "127.0.0.2", "10.21.0.1")
    ]
    assert allowed == [True, True, False, False]
    with pytest.raises(InputError, match="not an IP address or network"):
        AddressPolicy.of(allow_networks=["intranet"])


def test_one_refused_address_refuses_the_host():
    with pytest.raises(AddressRefused, match=r"news\.example: refused, 10\.0\.0\.7 is a private address"):
        AddressPolicy().check("news.example", ["93.184.216.34", "10.0.0.7"])


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "0", "[::1]"])
async def test_numeric_forms_of_loopback_are_resolved_then_refused(host):
    # getaddrinfo reads these forms as inet_aton does, without asking DNS; the policy sees 127.0.0.1.
    with pytest.raises(AddressRefused, match="refused|cannot resolve"):
        await AddressPolicy().resolve(host.strip("[]"), 80)


async def test_resolution_of_a_decimal_ip_gives_the_real_address():
    policy = AddressPolicy(allow_private=True)
    assert await policy.resolve("2130706433", 80) == ["127.0.0.1"]


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/", "javascript:alert(1)", "//x"]
)
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(AddressRefused, match="only http and https"):
        check_scheme(url)
    check_scheme("https://example.org/a")
    check_scheme("HTTP://example.org/a")
