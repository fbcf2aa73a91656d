"""The detectors that ship with Arbiter, declared once."""

from models.detectors.card_applications import CARD_APPLICATIONS
from models.detectors.card_transactions import CARD_TRANSACTIONS
from models.schema import Detector

DETECTORS: dict[str, Detector] = {d.name: d for d in (CARD_APPLICATIONS, CARD_TRANSACTIONS)}


class UnknownDetectorError(KeyError):
    """Raised for a detector name that is not declared."""

    def __str__(self) -> str:
        return f"unknown detector {self.args[0]!r}; known: {', '.join(sorted(DETECTORS))}"


def get_detector(name: str) -> Detector:
    """The declared detector called `name`."""
    try:
        return DETECTORS[name]
    except KeyError:
        raise UnknownDetectorError(name) from None


__all__ = ["DETECTORS", "Detector", "UnknownDetectorError", "get_detector"]
