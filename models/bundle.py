"""The model bundle: a directory with a manifest that lists every file's sha256.

    manifest.json        governance metadata + {"files": {name: sha256}}
    model.onnx           what the platform serves
    model.joblib / ...   the training library's own artifact
    features.json        the fitted feature transforms
    certification.json   validation rows with the training library's own scores

The bundle's digest (its identity in the registry) is the sha256 of manifest.json, which
pins every other file through its hash.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from models.errors import BundleError

FORMAT = "arbiter-bundle/1"
MANIFEST = "manifest.json"
FEATURES = "features.json"
CERTIFICATION = "certification.json"
ONNX_MODEL = "model.onnx"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dumps(data: Any) -> str:
    """Canonical JSON for bundle files (stable bytes for the same content)."""
    return json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n"


def write_bundle(out_dir: Path, manifest: dict[str, Any], staged: Path) -> Path:
    """Seal the files in `staged` with a manifest and move them to `out_dir` in one step.

    `out_dir` must not exist yet or be empty: a bundle is immutable.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BundleError(f"output directory {out_dir} is not empty; bundles are immutable")
    files = {p.name: file_sha256(p) for p in sorted(staged.iterdir()) if p.is_file()}
    manifest = {**manifest, "format": FORMAT, "files": files}
    (staged / MANIFEST).write_text(dumps(manifest))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists():
        out_dir.rmdir()
    shutil.move(str(staged), str(out_dir))
    return out_dir


def staging_dir(near: Path) -> Path:
    """A temporary directory on the same filesystem as `near`, for an atomic move."""
    parent = Path(near).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".bundle-", dir=parent))


def read_manifest(bundle_dir: Path) -> dict[str, Any]:
    path = Path(bundle_dir) / MANIFEST
    if not path.is_file():
        raise BundleError(f"{bundle_dir} is not a bundle: no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        raise BundleError(f"{path}: unsupported bundle format {found!r} (expected {FORMAT!r})")
    return manifest


def verify_bundle(bundle_dir: Path) -> dict[str, Any]:
    """The manifest, after checking that every file is present, listed and unmodified."""
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    listed: dict[str, str] = manifest.get("files") or {}
    present = {p.name for p in bundle_dir.iterdir() if p.is_file() and p.name != MANIFEST}
    if unlisted := sorted(present - set(listed)):
        raise BundleError(f"bundle {bundle_dir} has file(s) not in its manifest: {', '.join(unlisted)}")
    for name, expected in sorted(listed.items()):
        path = bundle_dir / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise BundleError(f"bundle {bundle_dir} lacks {name}, listed in its manifest")
        if file_sha256(path) != expected:
            raise BundleError(f"bundle {bundle_dir}: {name} does not match its sha256 in the manifest (tampered?)")
    served_by = (manifest.get("serving") or {}).get("runtime", "onnx")
    artifact = ONNX_MODEL if served_by == "onnx" else (manifest.get("serving") or {}).get("artifact")
    for required in (artifact, FEATURES, CERTIFICATION):
        if not required or required not in listed:
            raise BundleError(f"bundle {bundle_dir} has no {required or 'serving artifact'}")
    return manifest


def bundle_digest(bundle_dir: Path) -> str:
    """The bundle's identity: sha256 of its manifest (which pins every file)."""
    return file_sha256(Path(bundle_dir) / MANIFEST)
