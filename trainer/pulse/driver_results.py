"""Driver analysis of a unit's released results in a closed cycle, as the scheduler stored it.

The analysis is computed once, when the cycle closes (`trainer.pulse.analyses`); this only reads
it, for a unit whose results `released_results` shows. Suppressed and merged units get nothing.
"""

from dataclasses import replace

from sqlmodel import Session

from trainer import anonymity
from trainer.pulse.analyses import stored_drivers
from trainer.pulse.drivers import Driver, DriverAnalysis
from trainer.pulse.models import PulseCycle
from trainer.pulse.programmes import cycle_items
from trainer.pulse.results import released_results
from trainer.pulse.wording import item_text


def released_drivers(
    *,
    session: Session,
    cycle: PulseCycle,
    unit_id: int,
    released: anonymity.Released | None = None,
    rows: list | None = None,
) -> DriverAnalysis | None:
    """Return the stored driver analysis of a unit's released group, or None if it is not
    released.

    Each driver's `item_text` is in the reader's language (the stored analysis keeps English).

    `released` and `rows` may pass the unit's released result and the cycle's rollup rows when
    the caller has them already.
    """
    if released is None:
        released = released_results(
            session=session, cycle=cycle, unit_ids={unit_id}, items=False, comments=False, rows=rows
        ).get(unit_id)
    analysis = stored_drivers(cycle, released, session=session)
    if analysis is None or not analysis.drivers:
        return analysis
    texts = {item.id: item_text(item) for item in cycle_items(cycle, session=session)}

    def reworded(driver: Driver) -> Driver:
        return replace(driver, item_text=texts.get(driver.item_id, driver.item_text))

    return replace(
        analysis,
        drivers=[reworded(d) for d in analysis.drivers],
        focus=[reworded(d) for d in analysis.focus],
    )
