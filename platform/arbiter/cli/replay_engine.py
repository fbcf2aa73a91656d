"""Replaying recorded applications to a gateway over HTTP, in time order, with delayed labels.

The rows go out in the order of the detector's time column: as fast as `concurrency` allows, at a
fixed `rate` (requests per second), or at `speed` times the pace the time column records. Each
answered application's label (when the file has one) is posted to `/v1/outcomes` once
`label_delay` seconds have passed since its answer, as a bank's fraud team would confirm it later.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from models.features import epoch_seconds
from models.schema import NUMERIC_KINDS, Detector

LABEL_BATCH = 5_000
LABEL_TICK = 0.25
LABEL_RETRIES = 5  # a label can outrun the recording of its decision (the recorder batches): ask again
LABEL_RETRY_AFTER = 1.0


@dataclass(frozen=True)
class ReplayRow:
    offset: float  # seconds after the first row, on the file's own clock
    application_id: str
    data: dict[str, Any]
    is_fraud: bool | None


@dataclass
class ReplayOptions:
    url: str
    detector: str
    rate: float | None = None
    speed: float | None = None
    concurrency: int = 8
    label_delay: float | None = 0.0  # None: post no labels
    api_key: str | None = None
    timeout: float = 10.0


@dataclass
class ReplayResult:
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: dict[str, str] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    labels_posted: int = 0
    labels_fraud: int = 0
    labels_unknown: int = 0
    label_errors: Counter[str] = field(default_factory=Counter)

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else None


def read_rows(path: Path, detector: Detector, limit: int | None = None) -> list[ReplayRow]:
    """The file's rows in time order, each with an application id (the file's, or a fresh one)."""
    # text fields stay text (a zip code "02134" must not become the number 2134)
    text_fields = {f.name: str for f in detector.fields if f.kind not in NUMERIC_KINDS}
    frame = pd.read_csv(path, low_memory=False, dtype=text_fields, keep_default_na=True)
    required = [f.name for f in detector.fields if f.required and f.name != detector.label]
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the column(s) {', '.join(missing[:8])} of detector {detector.name}")
    times = epoch_seconds(frame[detector.time_field].to_numpy(dtype=object), detector.time_kind)
    if np.isnan(times).any():
        bad = int(np.flatnonzero(np.isnan(times))[0]) + 2
        raise ValueError(f"{path}, line {bad}: {detector.time_field} is not a valid time")
    order = np.argsort(times, kind="stable")
    if limit is not None:
        order = order[:limit]
    fields = [name for name in detector.field_names if name in frame.columns and name != detector.label]
    run = uuid.uuid4().hex[:8]
    has_ids, has_labels = "application_id" in frame.columns, detector.label in frame.columns
    start = float(times[order[0]]) if len(order) else 0.0
    records = frame[fields].to_dict(orient="records")
    rows = []
    for i in order:
        data = {k: _plain(v) for k, v in records[i].items() if not _missing(v)}
        app_id = str(frame["application_id"].iat[i]) if has_ids else f"replay-{run}-{i}"
        label = frame[detector.label].iat[i] if has_labels else None
        rows.append(ReplayRow(float(times[i]) - start, app_id, data,
                              None if label is None or _missing(label) else bool(int(label))))
    return rows


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def due_times(rows: list[ReplayRow], rate: float | None, speed: float | None) -> list[float] | None:
    """Seconds after the start at which each row is due; None: as fast as the concurrency allows."""
    if rate:
        return [i / rate for i in range(len(rows))]
    if speed:
        return [row.offset / speed for row in rows]
    return None


async def replay(rows: list[ReplayRow], options: ReplayOptions,
                 progress: Callable[[int], None] = lambda n: None) -> ReplayResult:
    """Send `rows` to the gateway and post their labels; what happened, counted."""
    result = ReplayResult()
    headers = {"X-API-Key": options.api_key} if options.api_key else {}
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    score_url = f"{options.url.rstrip('/')}/v1/detectors/{options.detector}/score"
    labels: deque[tuple[float, ReplayRow, int]] = deque()  # (due on the monotonic clock, row, attempt)
    done = asyncio.Event()
    schedule = due_times(rows, options.rate, options.speed)
    gate = asyncio.Semaphore(options.concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=options.timeout) as client:
        labeller = asyncio.create_task(_post_labels(client, options, labels, done, result))

        async def send(row: ReplayRow) -> None:
            try:
                began = time.perf_counter()
                try:
                    response = await client.post(score_url, json={"application_id": row.application_id,
                                                                  "data": row.data})
                except httpx.HTTPError as exc:
                    _error(result, type(exc).__name__, str(exc) or type(exc).__name__)
                    return
                result.latencies_ms.append((time.perf_counter() - began) * 1e3)
                if response.status_code != 200:
                    _error(result, str(response.status_code), response.text[:300])
                    return
                result.ok += 1
                result.decisions[response.json().get("decision", "?")] += 1
                if row.is_fraud is not None and options.label_delay is not None:
                    labels.append((time.monotonic() + options.label_delay, row, 0))
            finally:
                gate.release()
                progress(1)

        started = time.monotonic()
        tasks = []
        for i, row in enumerate(rows):
            if schedule is not None:
                wait = started + schedule[i] - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            await gate.acquire()
            result.sent += 1
            tasks.append(asyncio.create_task(send(row)))
        await asyncio.gather(*tasks)
        result.elapsed = time.monotonic() - started
        done.set()  # no more labels: the labeller posts what is left as it falls due, then stops
        await labeller
    return result


def _error(result: ReplayResult, kind: str, example: str) -> None:
    result.errors[kind] += 1
    result.error_examples.setdefault(kind, example)


async def _post_labels(client: httpx.AsyncClient, options: ReplayOptions,
                       labels: deque[tuple[float, ReplayRow, int]], done: asyncio.Event, result: ReplayResult) -> None:
    """Post each label once it is due. Labels join in due order (one delay after each answer);
    one the platform does not know yet is asked again shortly, a few times, then counted unknown."""
    url = f"{options.url.rstrip('/')}/v1/outcomes"
    retries: list[tuple[float, ReplayRow, int]] = []
    while True:
        now = time.monotonic()
        due: list[tuple[ReplayRow, int]] = []
        while labels and labels[0][0] <= now:
            _, row, attempt = labels.popleft()
            due.append((row, attempt))
        due += [(row, attempt) for at, row, attempt in retries if at <= now]
        retries = [entry for entry in retries if entry[0] > now]
        for start in range(0, len(due), LABEL_BATCH):
            unknown = await _post_label_chunk(client, url, due[start:start + LABEL_BATCH], result)
            retries += [(time.monotonic() + LABEL_RETRY_AFTER, row, attempt + 1) for row, attempt in unknown]
        if done.is_set() and not labels and not retries:
            return
        await asyncio.sleep(LABEL_TICK)


async def _post_label_chunk(client: httpx.AsyncClient, url: str, chunk: list[tuple[ReplayRow, int]],
                            result: ReplayResult) -> list[tuple[ReplayRow, int]]:
    """Post one chunk; the labels to ask again (unknown to the platform, attempts left)."""
    observed = datetime.now(UTC).isoformat()
    body = {"outcomes": [{"application_id": r.application_id, "is_fraud": r.is_fraud, "observed_at": observed}
                         for r, _ in chunk]}
    try:
        response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        result.label_errors[type(exc).__name__] += len(chunk)
        return []
    if response.status_code != 200:
        result.label_errors[str(response.status_code)] += len(chunk)
        return []
    summary = response.json()
    unknown_count = int(summary.get("unknown", 0))
    listed = set(summary.get("unknown_ids") or [])
    complete = len(listed) >= unknown_count  # the answer lists unknown ids only up to a cap
    if unknown_count == 0:
        unknown: list[tuple[ReplayRow, int]] = []
    elif complete:
        unknown = [(r, a) for r, a in chunk if r.application_id in listed]
    else:
        unknown = list(chunk)  # which ones is not known: ask again for all (idempotent)
    again = [(r, a) for r, a in unknown if a < LABEL_RETRIES]
    unsettled = {r.application_id for r, _ in unknown}
    settled = [r for r, _ in chunk if r.application_id not in unsettled]
    result.labels_posted += len(settled)
    result.labels_fraud += sum(1 for r in settled if r.is_fraud)
    result.labels_unknown += len(unknown) - len(again)
    return again
