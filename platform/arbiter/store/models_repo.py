"""Queries on the `models` and `detectors` tables."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arbiter.store import tables
from models.bundle import MANIFEST, bundle_digest
from models.errors import BundleError
from models.runtimes import Runtime, load_runtime
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


class IntegrityFailure(BundleError):
    """A registered model's bundle is no longer the one registered (the registry was rewritten)."""


def load_registered(registry_dir: Path, model: tables.Model, identity_key: bytes) -> Runtime:
    """`model`'s runtime, once its bundle matches the digest recorded at registration: the manifest's
    sha256 (which pins every file; `load_runtime` then checks each file against it). A bundle
    rewritten consistently in the registry passes its own manifest but not this."""
    path = bundle_path(registry_dir, model)
    found = bundle_digest(path) if (path / MANIFEST).is_file() else "missing"
    if found != model.sha256:
        raise IntegrityFailure(f"the bundle of {model.id} does not match the digest recorded at registration "
                               f"(registered {model.sha256[:12]}, found {found[:12]}): refused")
    return load_runtime(path, identity_key=identity_key)


def champion_of(session: Session, detector: str) -> tables.Model | None:
    """`detector`'s champion now (None: it has none)."""
    return session.scalars(select(tables.Model).where(tables.Model.detector == detector,
                                                      tables.Model.status == "champion")).first()
