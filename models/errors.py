"""Errors the model side raises for problems a user can fix; the CLI prints them as one line."""


class ModelsError(Exception):
    """Base class: a clear, one-line message for the user."""


class DataError(ModelsError):
    """The training data cannot be used as given (missing columns, bad labels, empty windows)."""


class TrainingGateError(ModelsError):
    """Training finished but the model failed a gate (such as `--min-auc`); no bundle was written."""


class BundleError(ModelsError):
    """A bundle is malformed, tampered with, or does not fit its detector."""


class CertificationError(BundleError):
    """The serving runtime's scores differ from the training library's beyond the tolerance."""


class EngineError(ModelsError):
    """A training engine (an H2O cluster) cannot be started or reached."""
