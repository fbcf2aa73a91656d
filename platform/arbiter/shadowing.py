"""Starting and stopping challengers, with the broker in step (admin API and CLI share this).

Starting declares and binds the challenger's queue *before* the shadow window opens, so every
application received inside the window is routed to it; if the broker cannot be reached the
model stays as it was (503). Stopping (or a promotion) unbinds the queue after the commit, best
effort: the workers also unbind, drain and delete queues of models that left shadow mode.
"""

from __future__ import annotations

import logging

from arbiter.bootstrap import Platform
from arbiter.broker.transport import BrokerUnavailable
from arbiter.promotion import PromotionError, set_shadow
from arbiter.store import tables

log = logging.getLogger(__name__)


def change_shadow(platform: Platform, model_id: str, on: bool) -> tables.Model:
    """Start (`on`) or stop shadowing `model_id`; the updated model. Raises PromotionError."""

    def bind(model: tables.Model) -> None:
        try:
            connection = platform.broker.connect(timeout=3.0)
        except BrokerUnavailable as exc:
            raise PromotionError(f"cannot start shadowing {model.id}: the broker is unreachable ({exc})",
                                 status=503) from None
        try:
            connection.declare_base()
            connection.declare_shadow(model.id, model.detector)
        except BrokerUnavailable as exc:
            raise PromotionError(f"cannot start shadowing {model.id}: {exc}", status=503) from None
        finally:
            connection.close()

    with platform.sessions() as session, session.begin():
        model = set_shadow(session, model_id, on, bind=bind)
    if not on:
        release_queue(platform, model)
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
