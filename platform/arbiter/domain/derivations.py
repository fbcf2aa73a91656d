"""What a stored application keeps of its PII besides keyed hashes (`applications.derived`), so a
backtest reproduces serving:

- the derived features that read PII (`models.features.recorded_derivations`): the zip-to-IP
  distance, the age in whole years, identity digests for the reuse counts, and the e-mail's domain
  as a keyed hash (a domain of one's own names its owner);
- for rules on clear fields: the e-mail's domain and the IP's network (IPv4 /24, IPv6 /48) as keyed
  hashes. A network rule is checked against the network when every network it lists is at least
  that wide (`network_digests`).

Derived when the application is recorded, from the record in clear, under ARBITER_PII_KEY.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from arbiter.domain.pii import PiiHasher
from models.features import email_domain, pii_derived, recorded_derivations, text_or_none
from models.schema import Detector

EMAIL_DOMAIN = "email_domain"  # the key, and the hashing kind, of the recorded e-mail domain
IP_NETWORK = "ip_network"  # the key, and the hashing kind, of the recorded network
RECORDED_PREFIX = {4: 24, 6: 48}
MAX_EXPANSION = 1 << 16  # recorded networks one listed network may expand to (an IPv4 /8)
HASHED_TRANSFORMS = {"email_domain"}  # derived features recorded as keyed hashes (text, possibly identifying)


def record_derivations(detector: Detector, records: Sequence[Mapping[str, Any]], hasher: PiiHasher
                       ) -> list[dict[str, Any] | None]:
    """`applications.derived` for each validated record in clear; None for a detector without PII."""
    if not detector.pii_fields:
        return [None] * len(records)
    hashed = {spec.name: spec.transform for spec in pii_derived(detector) if spec.transform in HASHED_TRANSFORMS}
    # domain rules read the e-mail's domain whatever the features; a feature may already be it
    domain_for_rules = "email" in detector.pii_fields and not any(
        spec.name == EMAIL_DOMAIN and spec.transform == "email_domain" and spec.sources == ("email",)
        for spec in pii_derived(detector))
    out: list[dict[str, Any] | None] = []
    for record, derived in zip(records, recorded_derivations(detector, records, hasher.identity_key), strict=True):
        for name, kind in hashed.items():
            if derived[name] is not None:
                derived[name] = hasher.digest(kind, derived[name])
        if domain_for_rules:
            domain = email_domain(text_or_none(record.get("email")))
            derived[EMAIL_DOMAIN] = None if domain is None else hasher.digest(EMAIL_DOMAIN, domain)
        if "ip" in detector.pii_fields:
            network = recorded_network(record.get("ip"))
            derived[IP_NETWORK] = None if network is None else hasher.digest(IP_NETWORK, network)
        out.append(derived)
    return out


def recorded_network(ip: object) -> str | None:
    """The network an address is recorded by: `81.2.69.0/24` for 81.2.69.142."""
    if ip is None:
        return None
    try:
        address = ipaddress.ip_address(str(ip))
    except ValueError:
        return None
    return str(ipaddress.ip_network(f"{address}/{RECORDED_PREFIX[address.version]}", strict=False))


def network_digests(networks: list[Any], hasher: PiiHasher) -> frozenset[str] | None:
    """The keyed hashes of every recorded network inside `networks`; None when one of them is narrower
    than the recorded prefix (its hits cannot be told from the recorded network) or too wide to expand."""
    digests: set[str] = set()
    for network in networks:
        prefix = RECORDED_PREFIX[network.version]
        if network.prefixlen > prefix or 1 << (prefix - network.prefixlen) > MAX_EXPANSION:
            return None
        digests.update(hasher.digest(IP_NETWORK, str(n)) for n in network.subnets(new_prefix=prefix))
    return frozenset(digests)
