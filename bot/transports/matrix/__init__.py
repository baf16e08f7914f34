"""Matrix (Tchap) transport: end-to-end encrypted direct conversations, polls, pacing.

Modules: ``identity`` (log in once, persisted device), ``transport`` (the adapter and its
sync loop), ``dispatch`` (per-conversation order, sync-token checkpoints), ``sender``
(paced, rate-limit-aware sends with stable transaction ids), ``rendering`` (inert
formatted text), ``polls`` (MSC3381), ``decryption`` (late room keys), ``rooms``
(invitation policy), ``state`` (what survives restarts), ``tchap`` (user id to email).
"""

from bot.transports.matrix.errors import MatrixSendError, MatrixStartupError
from bot.transports.matrix.tchap import email_candidates, email_from_user_id, suggest_collectivite
from bot.transports.matrix.transport import MatrixOptions, MatrixTransport

__all__ = [
    "MatrixOptions",
    "MatrixSendError",
    "MatrixStartupError",
    "MatrixTransport",
    "email_candidates",
    "email_from_user_id",
    "suggest_collectivite",
]
