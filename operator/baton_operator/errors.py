"""The operator's one exception hierarchy: what can go wrong between it and the cluster."""

from __future__ import annotations

__all__ = ["KubeError", "OperatorError", "ScrapeError"]


class OperatorError(Exception):
    """Base of every error the operator raises on purpose."""


class KubeError(OperatorError):
    """The Kubernetes API answered with an error status, or could not be reached (``status`` 0)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def forbidden(self) -> bool:
        return self.status == 403

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def transient(self) -> bool:
        """Worth retrying: throttling, server trouble, or no answer at all."""
        return self.status in (0, 429, 500, 502, 503, 504)


class ScrapeError(OperatorError):
    """A runtime pod's run summary could not be read or understood."""
