"""Rules: versioned deny lists checked before the model; a hit decides and says why.

Rule types and the field each reads:
    email         the applicant's email          values stored as keyed hashes
    ssn           the applicant's SSN            values stored as keyed hashes
    device        the device id                  values stored as keyed hashes
    email_domain  the domain of the email        values stored lower-case (not PII)
    ip_range      the IP address                 values stored as CIDR networks (not PII)

Identity values arrive in clear over the admin API, are hashed at once with ARBITER_PII_KEY,
and are never stored, logged or returned in clear.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from arbiter.domain.derivations import EMAIL_DOMAIN, IP_NETWORK, RECORDED_PREFIX, network_digests
from arbiter.domain.errors import Invalid
from arbiter.domain.pii import PiiHasher
from models.schema import Detector

RuleType = Literal["email", "ssn", "device", "email_domain", "ip_range"]
RULE_FIELDS: dict[str, str] = {"email": "email", "ssn": "ssn", "device": "device_id",
                               "email_domain": "email", "ip_range": "ip"}
HASHED_TYPES = {"email", "ssn", "device"}
SEVERITY = {"decline": 2, "review": 1}


class RuleInput(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    type: RuleType
    action: Literal["decline", "review"]
    values: list[str] = Field(max_length=100_000)
    description: str = Field("", max_length=500)


class RuleSetInput(BaseModel):
    """The body of `PUT /admin/v1/detectors/{detector}/rules`: the complete new rule set."""

    rules: list[RuleInput] = Field(max_length=200)
    note: str = Field("", max_length=2000)


class RulesError(Invalid):
    """A rule set that cannot apply to its detector; the message names the rule."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [{"field": "rules", "message": message}])


def to_stored(detector: Detector, ruleset: RuleSetInput, hasher: PiiHasher) -> dict[str, Any]:
    """The storable body: identity values hashed, domains normalised, networks parsed."""
    seen: set[str] = set()
    stored = []
    for rule in ruleset.rules:
        if rule.id in seen:
            raise RulesError(f"rule id {rule.id!r} appears twice")
        seen.add(rule.id)
        source = RULE_FIELDS[rule.type]
        if source not in detector.field_names:
            raise RulesError(f"rule {rule.id!r}: detector {detector.name!r} has no field {source!r}")
        stored.append({"id": rule.id, "type": rule.type, "action": rule.action, "description": rule.description,
                       "values": sorted(set(_store_value(rule, v, hasher) for v in rule.values))})
    return {"rules": stored}


def _store_value(rule: RuleInput, value: str, hasher: PiiHasher) -> str:
    if len(value) > 256 or not value.strip():
        raise RulesError(f"rule {rule.id!r}: values must be 1 to 256 characters")
    if rule.type in HASHED_TYPES:
        return hasher.digest(RULE_FIELDS[rule.type], value)
    if rule.type == "email_domain":
        return value.strip().lower().lstrip("@")
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise RulesError(f"rule {rule.id!r}: {value!r} is not an IP network (CIDR)") from None


def public_view(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the admin API shows: hashed lists as counts only, the rest as stored."""
    out = []
    for rule in body.get("rules", []):
        view = {k: rule[k] for k in ("id", "type", "action", "description")}
        if rule["type"] in HASHED_TYPES:
            view["values"] = {"count": len(rule["values"]), "stored_as": "HMAC-SHA256"}
        else:
            view["values"] = list(rule["values"])
        out.append(view)
    return out


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    action: str
    type: str


HIT_TEXTS = {"email": "email address on a deny list", "ssn": "SSN on a deny list", "device": "device on a deny list",
             "email_domain": "email domain on a watch list", "ip_range": "IP address in a listed network"}


@dataclass
class CompiledRules:
    """A rule set ready to evaluate in microseconds."""

    version: int
    hashed: list[tuple[str, str, str, frozenset[str]]] = field(default_factory=list)
    domains: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)
    networks: list[tuple[str, str, list[Any]]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # rule id -> what a person reads

    @classmethod
    def compile(cls, version: int, body: Mapping[str, Any]) -> CompiledRules:
        compiled = cls(version)
        for rule in body.get("rules", []):
            values = rule["values"]
            compiled.texts[rule["id"]] = rule.get("description") or HIT_TEXTS.get(rule["type"], f"rule {rule['id']}")
            if rule["type"] in HASHED_TYPES:
                compiled.hashed.append((rule["id"], rule["action"], rule["type"], frozenset(values)))
            elif rule["type"] == "email_domain":
                compiled.domains.append((rule["id"], rule["action"], frozenset(values)))
            else:
                compiled.networks.append((rule["id"], rule["action"], [ipaddress.ip_network(v) for v in values]))
        return compiled

    def __bool__(self) -> bool:
        return bool(self.hashed or self.domains or self.networks)

    def evaluate(self, record: Mapping[str, Any], hasher: PiiHasher) -> list[RuleHit]:
        """Every rule the record hits, most severe first."""
        hits: list[RuleHit] = []
        for rule_id, action, kind, values in self.hashed:
            raw = record.get(RULE_FIELDS[kind])
            if raw is not None and hasher.digest(RULE_FIELDS[kind], str(raw)) in values:
                hits.append(RuleHit(rule_id, action, kind))
        hits.extend(self.clear_hits(record, self.domains, self.networks))
        return sorted(hits, key=lambda h: -SEVERITY[h.action])

    def for_stored(self, hasher: PiiHasher, hashed_fields: frozenset[str]) -> StoredRules:
        """This rule set ready for stored applications, whose PII fields (`hashed_fields`) are keyed
        hashes: identity rules compare hash with hash; domain and network rules on a hashed field
        compare keyed hashes with the derivations recorded with the application (`applications.derived`).
        A network rule listing a network narrower than the recorded one cannot be evaluated."""
        stored = StoredRules(self.hashed)
        for rid, action, domains in self.domains:
            if "email" in hashed_fields:
                stored.derived.append((rid, action, EMAIL_DOMAIN, frozenset(hasher.digest(EMAIL_DOMAIN, d)
                                                                            for d in domains)))
            else:
                stored.domains.append((rid, action, domains))
        for rid, action, networks in self.networks:
            if "ip" not in hashed_fields:
                stored.networks.append((rid, action, networks))
            elif (digests := network_digests(networks, hasher)) is not None:
                stored.derived.append((rid, action, IP_NETWORK, digests))
            else:
                stored.unreadable[rid] = (f"lists a network narrower than the recorded /{RECORDED_PREFIX[4]} "
                                          f"(IPv4) or /{RECORDED_PREFIX[6]} (IPv6), or wider than can be expanded")
        return stored

    @staticmethod
    def clear_hits(record: Mapping[str, Any], domains: list[tuple[str, str, frozenset[str]]],
                   networks: list[tuple[str, str, list[Any]]]) -> list[RuleHit]:
        """Hits of domain and network rules on a record's e-mail and IP in clear."""
        hits: list[RuleHit] = []
        email = record.get("email")
        if domains and isinstance(email, str) and "@" in email:
            domain = email.rsplit("@", 1)[1].lower()
            hits.extend(RuleHit(rid, action, "email_domain") for rid, action, values in domains if domain in values)
        ip = record.get("ip")
        if networks and isinstance(ip, str):
            try:
                address = ipaddress.ip_address(ip)
            except ValueError:
                address = None
            if address is not None:
                hits.extend(RuleHit(rid, action, "ip_range") for rid, action, nets in networks
                            if any(address.version == n.version and address in n for n in nets))
        return hits


@dataclass
class StoredRules:
    """A rule set for stored applications (`CompiledRules.for_stored`)."""

    hashed: list[tuple[str, str, str, frozenset[str]]]
    domains: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)  # on e-mails stored in clear
    networks: list[tuple[str, str, list[Any]]] = field(default_factory=list)  # on IPs stored in clear
    derived: list[tuple[str, str, str, frozenset[str]]] = field(default_factory=list)  # id, action, key, digests
    unreadable: dict[str, str] = field(default_factory=dict)  # rule id -> why it cannot be evaluated

    def needs_derivations(self) -> set[str]:
        """The rules an application stored without derivations cannot be checked against."""
        return {rid for rid, _, _, _ in self.derived}

    def evaluate(self, payload: Mapping[str, Any], derived: Mapping[str, Any] | None) -> list[RuleHit]:
        """Every rule a stored application hits, most severe first (derivation rules only when the
        application has its derivations recorded)."""
        hits: list[RuleHit] = []
        for rule_id, action, kind, values in self.hashed:
            stored = payload.get(RULE_FIELDS[kind])
            if stored is not None and str(stored) in values:
                hits.append(RuleHit(rule_id, action, kind))
        if derived is not None:
            hits.extend(RuleHit(rid, action, "email_domain" if key == EMAIL_DOMAIN else "ip_range")
                        for rid, action, key, digests in self.derived if derived.get(key) in digests)
        hits.extend(CompiledRules.clear_hits(payload, self.domains, self.networks))
        return sorted(hits, key=lambda h: -SEVERITY[h.action])
