"""Arbiter: champion/challenger model serving for fraud detection."""

__version__ = "0.1.0"
