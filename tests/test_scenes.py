"""Scenes tested without a transport: a state and an incoming value in, replies and state out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.values import ConversationKey, IncomingChoice, IncomingText, OutChoices, Outgoing
from bot.dialogue.context import Context, Services
from bot.dialogue.state import DialogueState, Frame
from bot.dialogue.step import step
from bot.forms.base import FormState
from storage.records import AgentRecord
from storage.store import Store

KEY = ConversationKey("test", "dm-alice", "alice")
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ANSWERS = {
    "title": "Réserver les salles en ligne",
    "description": "Les associations appellent la mairie pour réserver une salle.",
    "beneficiaries": ["associations"],
    "current_handling": None,
    "thematique": {"id": "culture_sport_tourisme", "confidence": 0.9, "source": "agent"},
    "usage": "reserver",
    "same_as": None,
}


@pytest.fixture
def agent(store: Store, services: Services) -> AgentRecord:
    with store.transaction() as tx:
        agent = tx.ensure_agent("test", "alice")
        ref = services.referential.search("Villeurbanne", limit=1)[0]
        return tx.save_profile(agent, collectivite=ref, profile="agent", fonction="DGS", email=None)


def run(
    services: Services, store: Store, agent: AgentRecord, state: DialogueState, text: str
) -> list[Outgoing]:
    with store.transaction() as tx:
        ctx = Context(services, tx, KEY, agent, NOW)
        return step(ctx, state, IncomingText(key=KEY, event_id=None, text=text))


def summary_state() -> DialogueState:
    form = FormState(name="besoin", answers=dict(ANSWERS), started_at=NOW)
    return DialogueState(
        stack=[Frame(scene="menu"), Frame(scene="summary", form=form)], greeted=True
    )


def test_modifier_on_a_summary_asks_which_answer(services, store, agent) -> None:
    state = summary_state()
    replies = run(services, store, agent, state, "modifier")
    assert state.top is not None and state.top.scene == "edit_pick"
    question = replies[-1]
    assert isinstance(question, OutChoices)
    assert [c.id for c in question.choices][:2] == ["title", "description"]


def test_annuler_pushes_a_confirmation_and_non_returns_to_the_summary(
    services, store, agent
) -> None:
    state = summary_state()
    run(services, store, agent, state, "annuler")
    assert [f.scene for f in state.stack] == ["menu", "summary", "confirm_cancel"]
    replies = run(services, store, agent, state, "non")
    assert [f.scene for f in state.stack] == ["menu", "summary"]
    assert "Voici votre besoin, avant envoi" in replies[-1].text  # type: ignore[union-attr]


def test_profile_interrupts_a_draft_and_returns_to_it(services, store, agent) -> None:
    state = summary_state()
    run(services, store, agent, state, "profil")
    assert [f.scene for f in state.stack] == ["menu", "summary", "profile"]
    replies = run(services, store, agent, state, "Reprendre ma contribution")
    assert [f.scene for f in state.stack] == ["menu", "summary"]
    assert "Réserver les salles en ligne" in replies[-1].text  # type: ignore[union-attr]


def test_a_choice_that_was_not_offered_is_refused(services, store, agent) -> None:
    state = summary_state()
    run(services, store, agent, state, "modifier")  # offers the answered fields and retour
    token = str(state.question)
    with store.transaction() as tx:
        ctx = Context(services, tx, KEY, agent, NOW)
        forged = IncomingChoice(key=KEY, choice_id="superadmin", token=token)
        replies = step(ctx, state, forged)
    assert "Je n’ai pas compris votre choix" in replies[0].text  # type: ignore[union-attr]
    assert state.top is not None and state.top.scene == "edit_pick"
    assert state.top.form is not None and state.top.form.answers == ANSWERS


def test_a_state_stored_before_the_scenes_is_read_as_a_stack() -> None:
    form = FormState(name="besoin", answers=dict(ANSWERS), started_at=NOW)
    stored = {"mode": "confirm_cancel", "form": form.model_dump(mode="json"), "question": 7}
    state = DialogueState.model_validate(stored)
    assert [f.scene for f in state.stack] == ["menu", "summary", "confirm_cancel"]
    assert state.question == 7 and state.greeted
    suspended = {
        "mode": "form",
        "form": FormState(name="profil", field="fonction", started_at=NOW).model_dump(),
        "suspended": form.model_dump(mode="json"),
    }
    state = DialogueState.model_validate(suspended)
    assert [f.scene for f in state.stack] == ["menu", "summary", "profile", "form"]
    assert state.draft() is not None and state.draft().answers == ANSWERS  # type: ignore[union-attr]


def test_every_scene_a_frame_can_name_is_registered(services) -> None:
    from bot.consultation.recurrence import SIMILAR_SCENE
    from bot.dialogue.turn import FORM, MENU, RESUME, SUMMARY
    from bot.scenes.confirm import CONFIRM_CANCEL
    from bot.scenes.edit_pick import EDIT_PICK
    from bot.scenes.new_contribution import CONFIRM_NEW, KIND
    from bot.scenes.profile_view import PROFILE
    from bot.scenes.repeat import REPEAT

    names = {scene.name for scene in services.scenes}
    assert {FORM, MENU, RESUME, SUMMARY, SIMILAR_SCENE, CONFIRM_CANCEL, CONFIRM_NEW}.issubset(names)
    assert {EDIT_PICK, PROFILE, REPEAT, KIND}.issubset(names)
