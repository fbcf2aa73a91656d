"""Errors the platform raises for problems a user can fix (one clear line each)."""


class RegistrationError(Exception):
    """A model bundle was refused; nothing was written."""
