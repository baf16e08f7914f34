"""Exceptions raised at the Matrix adapter's edge, from nio's error values."""

from __future__ import annotations


class MatrixStartupError(Exception):
    """The bot cannot start on Matrix; the message is French, for the operator."""


class MatrixSendError(Exception):
    """A send failed for a reason that may pass (server error, connection lost).

    The engine keeps the reply queued and counts the attempt; a later delivery reuses
    nothing of this one, so the message may then be sent under a new transaction id.
    """
