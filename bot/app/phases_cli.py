"""``recueil phases``: the calendar, the sending window, and every campaign's progress."""

from __future__ import annotations

from bot.app.services import clock_of, open_store
from bot.consultation.campaigns import progress_report
from bot.consultation.referent_calls import planned_in
from config.calendar import Calendar, french_date, french_span
from config.catalogue import Catalogue
from config.settings import Settings
from storage import campaigns as stored

ALL_UPCOMING = 100


def phases_report(settings: Settings) -> str:
    catalogue = Catalogue.load(settings.messages_file)
    calendar = Calendar.load(settings.zone, settings.calendar_file, catalogue)
    now = clock_of(settings)()  # RECUEIL_NOW in a trial
    today, current = calendar.today(now), calendar.current(now)
    lines = [catalogue.t("phases.title", today=french_date(today))]
    for phase in calendar.phases:
        start, end = french_span(phase.start, phase.end)
        lines.append(
            catalogue.t(
                "phases.item",
                label=phase.label,
                start=start,
                end=end,
                now=catalogue.t("phases.current") if phase == current else "",
            )
        )
    window = settings.sending_window
    lines.append(
        catalogue.t("phases.window", days=window.french_days(), hours=window.french_hours())
    )
    store = open_store(settings)
    try:
        with store.transaction() as tx:
            progress = stored.progress(tx)
            calls = planned_in(tx, calendar, today, settings.referent_call_delay_days)
    finally:
        store.close()
    lines.append(
        progress_report(
            catalogue.t,
            calendar,
            today,
            progress,
            ALL_UPCOMING,
            calls_due=calls.due,
            calls_upcoming=calls.upcoming,
        )
    )
    return "\n".join(lines)
