"""Storing an agent's profile, the first time and after an edit."""

from __future__ import annotations

from bot.consultation.collectivites import lookup
from bot.dialogue.context import Context
from bot.forms.base import Completion, FormState


def save(ctx: Context, form: FormState) -> Completion:
    """Store the confirmed profile form; the agent's record in ``ctx`` is refreshed."""
    answers = form.answers
    ref = lookup(ctx, answers["collectivite"]["kind"], answers["collectivite"]["code"])
    first_time = not ctx.has_profile
    agent = ctx.tx.ensure_agent(ctx.key.transport, ctx.key.user)
    agent = ctx.tx.save_profile(
        agent,
        collectivite=ref,
        profile=answers["profil"],
        fonction=answers["fonction"],
        email=answers.get("email"),
        platform_email=ctx.platform_email,
    )
    ctx.agent = agent
    ctx.tx.audit(
        ctx.actor,
        "profile.saved",
        subject=f"agent:{agent.id}",
        collectivite=ref.code,
        first_time=first_time,
    )
    return Completion(ctx.t("profile.saved", collectivite=ref.label))
