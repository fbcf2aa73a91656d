"""A small, deterministic gazetteer: zip codes and IPv4 addresses to a region's coordinates.

Real deployments swap in a GeoIP database behind the same two functions; the synthetic
data is generated against this table, so the `zip_ip_distance_km` feature is meaningful.
Zip prefixes follow the real layout of US zip codes (0xx New England ... 9xx West Coast).
"""

from __future__ import annotations

import ipaddress

import numpy as np

# (name, latitude, longitude), ordered so that region i owns zip prefixes [25*i, 25*i+25).
REGIONS: tuple[tuple[str, float, float], ...] = (
    ("Boston", 42.36, -71.06), ("Providence", 41.82, -71.41), ("Hartford", 41.76, -72.68),
    ("Newark", 40.74, -74.17), ("New York", 40.71, -74.01), ("Albany", 42.65, -73.75),
    ("Philadelphia", 39.95, -75.17), ("Pittsburgh", 40.44, -79.99), ("Washington", 38.91, -77.04),
    ("Richmond", 37.54, -77.44), ("Charlotte", 35.23, -80.84), ("Atlanta", 33.75, -84.39),
    ("Orlando", 28.54, -81.38), ("Miami", 25.76, -80.19), ("Nashville", 36.16, -86.78),
    ("Birmingham", 33.52, -86.80), ("Louisville", 38.25, -85.76), ("Columbus", 39.96, -83.00),
    ("Detroit", 42.33, -83.05), ("Indianapolis", 39.77, -86.16), ("Milwaukee", 43.04, -87.91),
    ("Minneapolis", 44.98, -93.27), ("Des Moines", 41.59, -93.62), ("Chicago", 41.88, -87.63),
    ("St. Louis", 38.63, -90.20), ("Kansas City", 39.10, -94.58), ("Omaha", 41.26, -95.93),
    ("New Orleans", 29.95, -90.07), ("Oklahoma City", 35.47, -97.52), ("Dallas", 32.78, -96.80),
    ("Houston", 29.76, -95.37), ("Austin", 30.27, -97.74), ("Denver", 39.74, -104.99),
    ("Salt Lake City", 40.76, -111.89), ("Phoenix", 33.45, -112.07), ("Las Vegas", 36.17, -115.14),
    ("Los Angeles", 34.05, -118.24), ("San Francisco", 37.77, -122.42), ("Portland", 45.52, -122.68),
    ("Seattle", 47.61, -122.33),
)
N_REGIONS = len(REGIONS)
_LAT = np.array([r[1] for r in REGIONS])
_LON = np.array([r[2] for r in REGIONS])
_ZIPS_PER_REGION = 1000 // N_REGIONS


def zip_region(zip_code: object) -> int:
    """Region index of a US zip code, or -1 when it cannot be read."""
    if not isinstance(zip_code, str) or len(zip_code) < 3 or not zip_code[:3].isdigit():
        return -1
    return min(int(zip_code[:3]) // _ZIPS_PER_REGION, N_REGIONS - 1)


def ip_region(ip: object) -> int:
    """Region index of an IPv4 address (by its /16), or -1 (IPv6, private or unreadable)."""
    if not isinstance(ip, str):
        return -1
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return -1
    if addr.version != 4 or addr.is_private:
        return -1
    o1, o2 = addr.packed[0], addr.packed[1]
    return (o1 * 256 + o2) % N_REGIONS


def region_distance_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distance between region centroids; NaN where either side is unknown."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    known = (a >= 0) & (b >= 0)
    ia, ib = np.where(known, a, 0), np.where(known, b, 0)
    lat1, lon1, lat2, lon2 = map(np.radians, (_LAT[ia], _LON[ia], _LAT[ib], _LON[ib]))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    dist = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return np.where(known, dist, np.nan)
