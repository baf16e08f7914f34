"""How a form shows its answers: one line per field, private ones marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.dialogue.context import Context


def summary_lines(ctx: Context, form_name: str, answers: dict[str, Any]) -> str:
    """One line per answered field, marking the private ones."""
    lines = []
    for field in ctx.services.forms[form_name].answered(answers):
        value = answers[field.name]
        gender = "feminine" if field.feminine else "masculine"
        shown = (
            ctx.t(f"summary.empty.{gender}")
            if value is None
            else field.summary(ctx, form_name, value)
        )
        private = "" if field.public else " " + ctx.t(f"summary.private.{gender}")
        label = field.label(ctx, form_name)
        lines.append(ctx.t("summary.line", label=label, private=private, value=shown))
    return "\n".join(lines)
