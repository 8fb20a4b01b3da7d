"""Exceptions the engine raises: each carries a message and a hint that says what to do."""
from __future__ import annotations


class RestyleError(Exception):
    """Base error: ``message`` says what went wrong, ``hint`` what the user can do about it."""

    code = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class BadInput(RestyleError):
    """The request itself is wrong: unreadable image, unknown style, bad parameter."""

    code = "bad_input"


class TooLarge(BadInput):
    """The image or message is larger than the engine accepts."""

    code = "too_large"


class WeightsMissing(RestyleError):
    """Pretrained weights are not installed or fail their checksum."""

    code = "weights_missing"


class DeviceUnavailable(RestyleError):
    """The requested compute device cannot be used."""

    code = "device_unavailable"


class Cancelled(RestyleError):
    """The job was cancelled by the user."""

    code = "cancelled"

    def __init__(self, message: str = "cancelled", hint: str = "") -> None:
        super().__init__(message, hint)
