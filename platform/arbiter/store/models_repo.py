"""Queries on the `models` and `detectors` tables."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arbiter.store import tables
from models.schema import Detector


def ensure_detector(session: Session, detector: Detector) -> tables.Detector:
    """The detector's row, created or brought up to date with its declaration."""
    row = session.get(tables.Detector, detector.name)
    if row is None:
        row = tables.Detector(name=detector.name, description=detector.description,
                              input_schema=detector.schema_dict(), schema_fingerprint=detector.fingerprint())
        session.add(row)
    elif row.schema_fingerprint != detector.fingerprint():
        row.input_schema = detector.schema_dict()
        row.schema_fingerprint = detector.fingerprint()
        row.description = detector.description
    session.flush()
    return row


def by_sha256(session: Session, digest: str) -> tables.Model | None:
    return session.scalars(select(tables.Model).where(tables.Model.sha256 == digest)).first()


def next_version(session: Session, name: str) -> int:
    current = session.scalar(select(func.max(tables.Model.version)).where(tables.Model.name == name))
    return (current or 0) + 1


def list_models(session: Session, detector: str | None = None) -> list[tables.Model]:
    query = select(tables.Model).order_by(tables.Model.detector, tables.Model.registered_at, tables.Model.id)
    if detector:
        query = query.where(tables.Model.detector == detector)
    return list(session.scalars(query))


def bundle_path(registry_dir: Path, model: tables.Model) -> Path:
    """Where a registered model's bundle lives."""
    return Path(registry_dir) / model.location


def champion_of(session: Session, detector: str) -> tables.Model | None:
    """`detector`'s champion now (None: it has none)."""
    return session.scalars(select(tables.Model).where(tables.Model.detector == detector,
                                                      tables.Model.status == "champion")).first()
