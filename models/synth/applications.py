"""Synthetic credit-card applications with PII and the seed's fraud patterns.

Legitimate applicants: a home region (zip), an IP usually in the same region, a personal
device (sometimes shared within a family), a requested limit in proportion to income.
Each fraudulent application draws its own mix of signals, none certain:

- a known fraudulent email or SSN (the deny lists `KNOWN_FRAUD_EMAILS`, `KNOWN_FRAUD_SSNS`);
- a disposable email domain;
- an IP far from the stated zip;
- membership of a ring that reuses SSNs and devices across applications;
- a limit out of proportion to income, youth, odd hours, income left blank.

Several of these are non-monotone (late hours at both ends of the day, the young and the
elderly, limits just under 10,000) or only matter in combination (limit against income),
so a forest beats a logistic model, while the rest keep it learnable.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from models import geo

DEFAULT_FRAUD_RATE = 0.02
START = np.datetime64("2026-01-01T00:00:00")
DAYS = 120
FIRST = tuple("""
james mary robert patricia john jennifer michael linda david elizabeth william barbara
richard susan joseph jessica thomas sarah charles karen chris nancy daniel lisa
matthew betty anthony sandra mark ashley donald kim steven emily paul donna
andrew michelle josh carol
""".split())
LAST = tuple("""
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white
harris sanchez clark ramirez lewis robinson walker young allen king wright scott
torres nguyen hill
""".split())
MAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
                "comcast.net", "proton.me", "att.net", "verizon.net")
MAIL_WEIGHTS = (0.38, 0.14, 0.12, 0.09, 0.09, 0.04, 0.04, 0.03, 0.03, 0.04)
DISPOSABLE_DOMAINS = ("mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.net",
                      "yopmail.com", "trashmail.com")
EMPLOYMENT = ("employed", "self-employed", "unemployed", "student", "retired")
CHANNELS = ("web", "mobile", "branch", "partner")
_RESERVED_FIRST_OCTETS = {10, 100, 127, 169, 172, 192, 198, 203}


def _format_ssn(numbers: np.ndarray) -> list[str]:
    return [f"{n // 1_000_000:03d}-{n // 10_000 % 100:02d}-{n % 10_000:04d}" for n in numbers]


@cache
def known_fraud_identities() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Emails and SSNs confirmed fraudulent in the past (fixed, independent of the seed)."""
    rng = np.random.default_rng(20260101)
    emails = tuple(f"{a}.{b}{n}@{d}" for a, b, n, d in zip(
        rng.choice(FIRST, 200), rng.choice(LAST, 200), rng.integers(100, 999, 200),
        rng.choice(MAIL_DOMAINS, 200), strict=True))
    ssns = tuple(_format_ssn(rng.integers(100_000_000, 899_999_999, 200)))
    return emails, ssns


KNOWN_FRAUD_EMAILS, KNOWN_FRAUD_SSNS = known_fraud_identities()


def _ips(rng: np.random.Generator, regions: np.ndarray) -> list[str]:
    n = regions.size
    first = rng.integers(11, 224, n)
    first = np.where(np.isin(first, list(_RESERVED_FIRST_OCTETS)), first + 1, first)
    second = (regions - first * 256) % geo.N_REGIONS + geo.N_REGIONS * rng.integers(0, 5, n)
    rest = rng.integers(1, 255, (n, 2))
    return [f"{a}.{b}.{c}.{d}" for a, b, c, d in zip(first, second, rest[:, 0], rest[:, 1], strict=True)]


def _zips(rng: np.random.Generator, regions: np.ndarray) -> list[str]:
    prefix = regions * (1000 // geo.N_REGIONS) + rng.integers(0, 1000 // geo.N_REGIONS, regions.size)
    return [f"{p:03d}{s:02d}" for p, s in zip(prefix, rng.integers(0, 100, regions.size), strict=True)]


def _submitted(rng: np.random.Generator, n: int, night_share: float) -> np.ndarray:
    day = rng.integers(0, DAYS, n)
    daytime = np.clip(rng.normal(14.0, 3.5, n), 6.0, 23.99)
    # late night at either end of the day: 22:00-24:00 or 00:00-05:00
    night = np.where(rng.random(n) < 0.3, rng.uniform(22.0, 23.99, n), rng.uniform(0.0, 5.0, n))
    hour = np.where(rng.random(n) < night_share, night, daytime)
    seconds = (day * 86400 + hour * 3600).astype(np.int64)
    return START + seconds.astype("timedelta64[s]")


def synth_applications(rows: int, *, seed: int, fraud_rate: float | None = None) -> pd.DataFrame:
    """`rows` applications over 120 days, sorted by submission time."""
    rng = np.random.default_rng(seed)
    rate = DEFAULT_FRAUD_RATE if fraud_rate is None else fraud_rate
    fraud = rng.random(rows) < rate
    nf = int(fraud.sum())

    def signal(p_fraud: float, p_legit: float) -> np.ndarray:
        return rng.random(rows) < np.where(fraud, p_fraud, p_legit)

    first, last = rng.choice(FIRST, rows), rng.choice(LAST, rows)
    numbers = rng.integers(1, 9999, rows)
    domains = rng.choice(MAIL_DOMAINS, rows, p=MAIL_WEIGHTS)
    domains = np.where(signal(0.25, 0.004), rng.choice(DISPOSABLE_DOMAINS, rows), domains)
    emails = np.array([f"{a}.{b}{n}@{d}" for a, b, n, d in zip(first, last, numbers, domains, strict=True)], object)
    ssns = np.array(_format_ssn(rng.integers(100_000_000, 899_999_999, rows)), dtype=object)
    devices = np.array([f"dev-{x:016x}" for x in rng.integers(0, 2**62, rows)], dtype=object)

    # families share a device: a legitimate source of reuse
    family = np.flatnonzero(~fraud & (rng.random(rows) < 0.03))
    if family.size > 1:
        heads = rng.choice(family, family.size // 2 + 1, replace=False)
        devices[family] = devices[rng.choice(heads, family.size)]

    home = rng.choice(geo.N_REGIONS, rows)
    far = signal(0.45, 0.12)
    ip_region = np.where(far, rng.choice(geo.N_REGIONS, rows), home)

    age = np.clip(rng.normal(44, 14, rows), 18, 92)
    age = np.where(signal(0.25, 0.04), rng.uniform(18, 24, rows), age)  # thin-file young applicants
    age = np.where(signal(0.15, 0.03), rng.uniform(75, 92, rows), age)  # identities of the elderly
    submitted = _submitted(rng, rows, night_share=0.0)
    if nf:
        submitted[fraud] = _submitted(rng, nf, night_share=0.45)
    born = submitted - (age * 365.2425 * 86400).astype("timedelta64[s]")

    income = np.round(np.exp(rng.normal(np.log(58_000), 0.55, rows)), -2)
    ratio = np.where(signal(0.25, 0.03), rng.uniform(0.5, 1.2, rows), rng.uniform(0.03, 0.35, rows))
    limit = np.maximum(500.0, np.round(income * ratio / 500.0) * 500.0)
    # structuring: just under the 10,000 limit that triggers manual checks
    limit = np.where(signal(0.45, 0.02), np.round(rng.uniform(9000, 9950, rows), -1), limit)
    income_missing = signal(0.12, 0.02)

    employment = rng.choice(EMPLOYMENT, rows, p=[0.62, 0.12, 0.06, 0.08, 0.12])
    channel = np.where(fraud, rng.choice(CHANNELS, rows, p=[0.55, 0.25, 0.02, 0.18]),
                       rng.choice(CHANNELS, rows, p=[0.45, 0.35, 0.12, 0.08]))
    phones = np.array([f"+1 ({a}) {b}-{c:04d}" for a, b, c in zip(
        rng.integers(201, 989, rows), rng.integers(200, 999, rows), rng.integers(0, 9999, rows), strict=True)], object)
    phones[rng.random(rows) < 0.05] = None

    _apply_known_identities(rng, fraud, emails, ssns)
    _apply_rings(rng, fraud, ssns, devices)

    frame = pd.DataFrame({
        "application_id": [f"app-{seed}-{i:08d}" for i in range(rows)],
        "full_name": [f"{a.title()} {b.title()}" for a, b in zip(first, last, strict=True)],
        "email": emails,
        "ssn": ssns,
        "phone": phones,
        "date_of_birth": born.astype("datetime64[D]").astype(str),
        "zip": _zips(rng, home),
        "ip": _ips(rng, ip_region),
        "device_id": devices,
        "income": np.where(income_missing, np.nan, income),
        "employment": employment,
        "requested_limit": limit,
        "channel": channel,
        "submitted_at": np.datetime_as_string(submitted, unit="s").astype(object) + "Z",
        "is_fraud": fraud.astype(np.int64),
    })
    return frame.sort_values("submitted_at", kind="stable").reset_index(drop=True)


def _apply_known_identities(rng: np.random.Generator, fraud: np.ndarray, emails: np.ndarray, ssns: np.ndarray) -> None:
    idx = np.flatnonzero(fraud)
    pick = idx[rng.random(idx.size) < 0.10]
    emails[pick] = rng.choice(KNOWN_FRAUD_EMAILS, pick.size)
    pick = idx[rng.random(idx.size) < 0.10]
    ssns[pick] = rng.choice(KNOWN_FRAUD_SSNS, pick.size)


def _apply_rings(rng: np.random.Generator, fraud: np.ndarray, ssns: np.ndarray, devices: np.ndarray) -> None:
    """Rings of 3-8 fraudulent applications share a device and a small pool of SSNs."""
    members = np.flatnonzero(fraud & (rng.random(fraud.size) < 0.35))
    rng.shuffle(members)
    start = 0
    while start < members.size:
        size = int(rng.integers(3, 9))
        ring = members[start : start + size]
        devices[ring] = devices[ring[0]]
        pool = ssns[ring[: max(1, size // 3)]].copy()
        ssns[ring] = rng.choice(pool, ring.size)
        start += size
