"""Starting and stopping challengers, with the broker in step.

With four eyes, only a model governance approved starts (`reviews.py`). Starting declares and
binds the challenger's queue *before* the shadow window opens, so every application received
inside the window is routed to it; if the broker cannot be reached the model stays as it was (503).
Stopping (or a promotion) unbinds the queue after the commit, best effort: the workers also unbind,
drain and delete queues of models that left shadow mode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from arbiter.bootstrap import Platform
from arbiter.broker.transport import BrokerUnavailable
from arbiter.domain.errors import Conflict, NotFound, Unavailable
from arbiter.store import audit_repo, tables

log = logging.getLogger(__name__)


def change_shadow(platform: Platform, model_id: str, on: bool, *, actor: str = "system") -> tables.Model:
    """Start (`on`) or stop shadowing `model_id`; the updated model. One transaction; the queue is
    bound inside it (before the window opens) and released after it."""

    def bind(model: tables.Model) -> None:
        try:
            connection = platform.broker.connect(timeout=3.0)
        except BrokerUnavailable as exc:
            raise Unavailable(f"cannot start shadowing {model.id}: the broker is unreachable ({exc})") from None
        try:
            connection.declare_base()
            connection.declare_shadow(model.id, model.detector)
        except BrokerUnavailable as exc:
            raise Unavailable(f"cannot start shadowing {model.id}: {exc}") from None
        finally:
            connection.close()

    with platform.sessions() as session, session.begin():
        model = set_shadow(session, model_id, on, bind=bind, reviewed=platform.settings.four_eyes)
        audit_repo.append(session, actor, "shadow.started" if on else "shadow.stopped", model.id,
                          {"detector": model.detector})
    if not on:
        release_queue(platform, model)
    return model


def set_shadow(session: Session, model_id: str, on: bool,
               bind: Callable[[tables.Model], None] | None = None, reviewed: bool = False) -> tables.Model:
    """The models row's side of `change_shadow`: registered/retired -> shadow, or shadow -> registered.

    `bind(model)` runs before the shadow window opens; with `reviewed` (four eyes) only a model
    governance approved may start."""
    model = session.get(tables.Model, model_id)
    if model is None:
        raise NotFound(f"unknown model {model_id!r}")
    if model.status == "champion":
        raise Conflict(f"{model_id} is the champion; it cannot be a challenger")
    if not on and model.status != "shadow":
        raise Conflict(f"{model_id} is not in shadow mode (status {model.status})")
    if on and model.status == "shadow":
        return model
    if on and reviewed and model.review != "approved":
        raise Conflict(f"{model_id} cannot enter shadow mode: governance has "
                       f"{'rejected' if model.review == 'rejected' else 'not yet approved'} it "
                       f"(POST /admin/v1/models/{model_id}/review)")  # already shadowing: the window stays as it is
    if on and bind is not None:
        bind(model)
    now = datetime.now(UTC)
    model.status = "shadow" if on else "registered"
    model.status_changed_at = now
    if on:
        model.shadow_started_at, model.shadow_stopped_at = now, None
    else:
        model.shadow_stopped_at = now
    session.flush()
    return model


def release_queue(platform: Platform, model: tables.Model) -> None:
    """Unbind a former challenger's queue (best effort: the workers do it too)."""
    try:
        connection = platform.broker.connect(timeout=3.0)
        try:
            connection.release_shadow(model.id, model.detector)
        finally:
            connection.close()
    except BrokerUnavailable as exc:
        log.warning("could not unbind the queue of %s now (%s); the workers will", model.id, exc)
