"""Every conversation mode. Adding one: a module with its scene, and a line here."""

from __future__ import annotations

from bot.dialogue.scene import SceneRegistry
from bot.scenes.confirm import ConfirmCancelScene, ConfirmWithdrawScene
from bot.scenes.confirm_push import ConfirmPushScene
from bot.scenes.edit_pick import EditPickScene
from bot.scenes.erase import EraseScene
from bot.scenes.form import FormScene
from bot.scenes.menu import MenuScene
from bot.scenes.new_contribution import ConfirmNewScene, KindScene
from bot.scenes.profile_view import ProfileScene
from bot.scenes.repeat import RepeatScene
from bot.scenes.resume import ResumeScene
from bot.scenes.similar import SimilarScene
from bot.scenes.summary import SummaryScene
from bot.scenes.withdraw_offer import ConfirmWithdrawOfferScene


def build_scenes() -> SceneRegistry:
    return SceneRegistry(
        [
            MenuScene(),
            FormScene(),
            SummaryScene(),
            EditPickScene(),
            SimilarScene(),
            RepeatScene(),
            ConfirmCancelScene(),
            ConfirmNewScene(),
            ConfirmWithdrawScene(),
            KindScene(),
            ResumeScene(),
            ProfileScene(),
            ConfirmPushScene(),
            EraseScene(),
            ConfirmWithdrawOfferScene(),
        ]
    )
