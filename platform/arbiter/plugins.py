"""Extension points filled by other installed packages (entry points in pyproject.toml).

arbiter never imports the shadow workers (ARCHITECTURE.md); they plug in here instead:
`arbiter.commands` adds CLI commands (`arbiter worker`), `arbiter.embedded` runs the workers
inside the gateway's process for the in-process broker.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any


class PluginMissing(RuntimeError):
    """The package that provides an extension is not installed."""


def load(group: str, name: str) -> Any:
    """The object the entry point `group:name` names."""
    for entry in entry_points(group=group, name=name):
        return entry.load()
    raise PluginMissing(f"nothing installed provides {group}:{name}; install the project (pip install -e .)")


def all_of(group: str) -> dict[str, Any]:
    """Every object registered under `group`, by name."""
    return {entry.name: entry.load() for entry in entry_points(group=group)}
