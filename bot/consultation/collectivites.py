"""The collectivités as the dialogue stores them: a (kind, code) found in the referential."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from storage.referential import CollectiviteKind, CollectiviteRef

if TYPE_CHECKING:
    from bot.dialogue.context import Context


def lookup(ctx: Context, kind: str, code: str) -> CollectiviteRef:
    """The referential entry of a stored (kind, code); it must exist."""
    ref = ctx.services.referential.get(cast(CollectiviteKind, kind), code)
    if ref is None:
        raise LookupError(f"collectivité {kind}:{code} is not in the referential")
    return ref


def collectivite_value(ref: CollectiviteRef) -> dict[str, Any]:
    """How a collectivité is kept among a form's answers."""
    return {"kind": ref.kind, "code": ref.code, "name": ref.name, "label": ref.label}
