"""Errors the model side raises for problems a user can fix; the CLI prints them as one line."""


class ModelsError(Exception):
    """Base class: a clear, one-line message for the user."""


class DataError(ModelsError):
    """The training data cannot be used as given (missing columns, bad labels, empty windows)."""


class TrainingGateError(ModelsError):
    """Training finished but the model failed a gate (such as `--min-auc`); no bundle was written."""


class BundleError(ModelsError):
    """A bundle is malformed, tampered with, or does not fit its detector."""


class EngineError(ModelsError):
    """A training engine (an H2O cluster) cannot be started or reached."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """An exception as one line for a person: the first line of its message (its type's name when
    it has none), cut at `limit` characters. A database error says what the database said (`orig`)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__
