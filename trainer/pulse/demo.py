"""Demo pulse history: 8 closed quarters, an open current cycle and action plans.

Morale follows a smooth random walk per team around a team-specific level, so that other
features can relate it to customer outcomes. Response rates vary, and some cells fall below
the anonymity threshold on purpose. History is written straight as shuffled responses plus
rollups: participation rows of closed cycles are reduced to counts anyway.
"""

import json
import random
from datetime import UTC, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from trainer import anonymity
from trainer.access import Role, parse_roles
from trainer.auth.models import User
from trainer.demo import bulk_write, people_in_batches
from trainer.org.models import ManagedUnit, OrgUnit
from trainer.pulse.analyses import store_cycle_analyses
from trainer.pulse.cycles import aware, compute_rollups, open_cycle
from trainer.pulse.models import (
    ActionUpdate,
    Commitment,
    CommitmentMark,
    CommitmentVoter,
    CycleAudience,
    CycleStatus,
    ItemKind,
    PulseInvitation,
    PulseItem,
    SurveyParticipation,
    SurveyResponse,
    random_key,
)
from trainer.pulse.programmes import (
    Occurrence,
    cycle_for,
    ensure_default_programme,
    programme_item_ids,
)
from trainer.pulse.results import closed_cycles
from trainer.pulse.tree import group_keys
from trainer.util import quarter_bounds, quarter_of, shift_quarter, utcnow

HISTORY_QUARTERS = 8
COMMENTS = [
    "The new booking screen saves me a lot of time with customers.",
    "We need more cover on Saturdays; the queue gets long and people get short with us.",
    "I like that we can sort out small refunds ourselves now.",
    "Parts often arrive late, so we have to call customers back with bad news.",
    "Team huddles in the morning really help.",
    "It would help to hear what happened to the ideas we raised last time.",
    "Too many systems to log into before we can answer a simple question.",
    "My manager backs us when we go the extra mile for a customer.",
    "The workload has been heavy since two people left.",
    "Training on the new models was useful; more of that please.",
    "I'd like clearer rules on goodwill gestures so we don't have to ask every time.",
    "Customers notice when we have time for them. Some weeks we just don't.",
    "Recognition is mostly for sales numbers, not for good service.",
    "Good atmosphere in the team, people help each other out.",
    "The phone system drops calls at busy times.",
]
COMMITMENTS = [  # (action, the theme it answers, a note when work starts, a note when done)
    (
        "Let the service desk approve goodwill refunds up to 150 pounds without a manager.",
        "empowerment",
        "Limit agreed with finance; desk trained on Tuesday.",
        "In place since the 1st: 41 refunds approved at the desk.",
    ),
    (
        "Add a second person on the desk on Saturday mornings.",
        "wellbeing",
        "Rota changed from next month; two volunteers found.",
        "Two people on the desk every Saturday since the rota change.",
    ),
    (
        "Share the parts delivery schedule every morning so we can tell customers early.",
        "tools_time",
        "Parts team sends the list by 8:30; trial on two teams.",
        "Schedule on the board every morning by 9.",
    ),
    (
        "Replace the three log-ins with one sign-in for the booking and parts systems.",
        "tools_time",
        "IT ticket raised; single sign-on planned for the booking system first.",
        "One sign-in for booking and parts from last week.",
    ),
    (
        "Start each month's team meeting with what happened to last quarter's feedback.",
        "manager_action",
        "First meeting done; ten minutes at the start.",
        "Every monthly meeting now opens with it.",
    ),
]


def _answers(rng: random.Random, level: float, items, offsets) -> dict[str, int]:
    """Answer each (item id, kind): Likert around `level`, eNPS rising with it."""
    out = {}
    for item_id, kind in items:
        if kind == ItemKind.ENPS:
            value = round((level - 0.3) * 2.4 + rng.gauss(0, 1.6))
            out[str(item_id)] = min(10, max(0, value))
        else:
            value = round(level + offsets[item_id] + rng.gauss(0, 0.65))
            out[str(item_id)] = min(5, max(1, value))
    return out


RESPONSE_COLUMNS = ("id", "survey_id", "group_key", "answers", "comment")


def add_pulse_history(*, session: Session, demo) -> None:
    """Create the question bank, the company pulse, 8 closed quarters and an open cycle."""
    seed = demo.rng.random()
    rng = random.Random(f"pulse-{seed}")
    now = utcnow()
    current = quarter_of(now.date())
    first = shift_quarter(current, -HISTORY_QUARTERS)
    programme = ensure_default_programme(
        demo.company, session=session, starts_on=quarter_bounds(first)[0]
    )
    items = programme_item_ids(programme, session=session)
    units = {u.id: u for u in session.exec(select(OrgUnit)).all()}
    people = np.array(
        [
            (uid, unit_id)
            for uid, unit_id, roles, active in people_in_batches(
                User.roles, User.active, session=session
            )
            if active and Role.EMPLOYEE in parse_roles(roles)
        ],
        dtype=int,
    ).reshape(-1, 2)
    in_order = [int(u) for u in people[np.sort(np.unique(people[:, 1], return_index=True)[1]), 1]]
    members = {u: people[people[:, 1] == u, 0] for u in in_order}
    headcount = {u: len(ids) for u, ids in members.items()}
    keys = group_keys(units, set(units), headcount, 2 * anonymity.MIN_SCORES)

    # A level per unit (teams differ), then a smooth random walk per quarter.
    level = {u: rng.gauss(3.7, 0.3) for u in units}
    person_offset = np.array([rng.gauss(0, 0.45) for _ in range(len(people))])
    offsets_of = {u: person_offset[people[:, 1] == u].tolist() for u in members}
    members = {u: ids.tolist() for u, ids in members.items()}
    del people, person_offset
    cycle_items = [(item.id, item.kind) for item in (session.get(PulseItem, i) for i in items)]
    offsets = {item_id: rng.gauss(0, 0.25) for item_id, _ in cycle_items}
    for item_id in items:
        if session.get(PulseItem, item_id).theme == "customer_focus":
            offsets[item_id] = 0.2  # teams rate their customer focus a little higher
    order = random.Random(f"pulse-order-{seed}")  # shuffles each unit's rows: no order

    for n in range(HISTORY_QUARTERS):
        period = shift_quarter(first, n)
        opens = datetime.combine(quarter_bounds(period)[0] + timedelta(days=14), time(0), UTC)
        cycle = cycle_for(
            programme,
            Occurrence(period, period, opens, opens + timedelta(days=programme.window_days)),
            session=session,
        )
        session.execute(
            sa.insert(CycleAudience.__table__),
            [
                {
                    "cycle_id": cycle.id,
                    "unit_id": u,
                    "group_key": keys[u],
                    "invited": headcount.get(u, 0),
                }
                for u in sorted(units)
            ],
        )
        written = 0
        for unit_id in members:
            level[unit_id] += rng.gauss(0, 0.12) - 0.1 * (level[unit_id] - 3.7)
            rate = rng.uniform(0.6, 0.9) if rng.random() > 0.1 else rng.uniform(0.25, 0.45)
            rows = []
            for person_offset in offsets_of[unit_id]:
                if rng.random() > rate:
                    continue
                answers = _answers(rng, level[unit_id] + person_offset, cycle_items, offsets)
                comment = rng.choice(COMMENTS) if rng.random() < 0.2 else None
                rows.append((random_key(), cycle.id, keys[unit_id], json.dumps(answers), comment))
            order.shuffle(rows)
            written += bulk_write(SurveyResponse, RESPONSE_COLUMNS, rows, session=session)
        # Draw what shuffling the whole cycle's rows used to draw, so that the history, and
        # the links planted on it, stay as they were when rows were kept for the whole cycle.
        rng.shuffle(list(range(written)))
        cycle.status = CycleStatus.CLOSED
        session.add(cycle)
        compute_rollups(cycle, session=session)
        store_cycle_analyses(cycle, session=session)  # what the scheduler's close job stores

    _open_current_cycle(
        session,
        demo,
        programme,
        current,
        now,
        rng,
        level,
        members,
        offsets_of,
        cycle_items,
        offsets,
        keys,
        order,
    )
    _ledger(session, demo, rng, units)


def _open_current_cycle(
    session,
    demo,
    programme,
    current,
    now,
    rng,
    level,
    members,
    offsets_of,
    cycle_items,
    offsets,
    keys,
    order,
):
    opens = now - timedelta(days=2)
    cycle = cycle_for(
        programme,
        Occurrence(current, current, opens, opens + timedelta(days=programme.window_days)),
        session=session,
    )
    open_cycle(cycle, session=session, now=now, invitations_sent=True)
    demo_people = set(
        session.exec(select(User.id).where(User.email.in_(list(demo.logins.values())))).all()
    )
    invited = set(
        session.exec(
            select(PulseInvitation.employee_id).where(PulseInvitation.cycle_id == cycle.id)
        ).all()
    )
    answered = {
        unit_id: [
            (uid, offset)
            for uid, offset in zip(ids, offsets_of[unit_id], strict=True)
            if uid in invited and uid not in demo_people and rng.random() < 0.45
        ]
        for unit_id, ids in members.items()
    }
    del invited
    bulk_write(
        SurveyParticipation,
        ("survey_id", "employee_id"),
        ((cycle.id, uid) for people in answered.values() for uid, _ in people),
        session=session,
    )
    session.commit()  # the answers below go in another transaction, as a flush would
    for unit_id, people in answered.items():
        rows = [
            (
                random_key(),
                cycle.id,
                keys[unit_id],
                json.dumps(_answers(rng, level[unit_id] + offset, cycle_items, offsets)),
                rng.choice(COMMENTS) if rng.random() < 0.2 else None,
            )
            for _, offset in people
        ]
        order.shuffle(rows)
        bulk_write(SurveyResponse, RESPONSE_COLUMNS, rows, session=session)
    session.commit()


def _ledger(session, demo, rng, units):
    """Action plans on the demo manager's site and a few others, with status histories and
    anonymous marks: the older cycle's actions mostly done, the latest one's under way."""
    closed = closed_cycles(session=session)
    if len(closed) < 2:
        return
    manager = session.exec(select(User).where(User.email == demo.logins["manager"])).first()
    employee = session.exec(select(User).where(User.email == demo.logins["employee"])).first()
    sites = [demo.sites[0], *rng.sample(demo.sites[1:], 2)]
    now = utcnow()
    leads = dict(session.exec(select(ManagedUnit.unit_id, ManagedUnit.user_id)).all())
    marks = []
    for site in sites:
        team_ids = [u.id for u in units.values() if u.parent_id == site.id]
        for cycle, count in ((closed[-2], 2), (closed[-1], 3)):
            for n, (text, theme, started, finished) in enumerate(rng.sample(COMMITMENTS, count)):
                unit_id = site.id if rng.random() < 0.5 else rng.choice(team_ids)
                if site is demo.sites[0] and employee is not None and cycle is closed[-1]:
                    unit_id = employee.unit_id if n == 0 else site.id  # for the demo login
                latest = cycle is closed[-1]
                created = min(aware(cycle.closes_at) + timedelta(days=7), now)
                steps = [("planned", "Added to the plan.", created)]
                if not latest or n < 2:
                    steps.append(("in_progress", started, created + timedelta(days=12)))
                if not latest:
                    steps.append(
                        ("done", finished, created + timedelta(days=45))
                        if n == 0 or rng.random() < 0.7
                        else (
                            "dropped",
                            "Not possible this year; budget went to hiring.",
                            created + timedelta(days=40),
                        )
                    )
                steps = [(status, note, min(at, now)) for status, note, at in steps]
                owner = (
                    manager.id
                    if manager and site is demo.sites[0]
                    else leads.get(unit_id, leads.get(site.id))
                )
                commitment = Commitment(
                    cycle_id=cycle.id,
                    unit_id=unit_id,
                    text=text,
                    theme=theme,
                    owner_id=owner,
                    due_on=(
                        (now + timedelta(days=(12, -6, 40)[n]))
                        if latest
                        else (created + timedelta(days=30 + 20 * n))
                    ).date(),
                    status=steps[-1][0],
                    status_at=steps[-1][2],
                    created_by=owner,
                    created_at=created,
                )
                session.add(commitment)
                session.flush()
                session.add_all(
                    [
                        ActionUpdate(
                            commitment_id=commitment.id,
                            status=status,
                            note=note,
                            at=at,
                            by_id=owner,
                        )
                        for status, note, at in steps
                    ]
                )
                if latest and site is demo.sites[0]:
                    continue  # the latest ones are still waiting for marks
                marks += _marks(session, rng, commitment, units, employee)
    session.commit()  # marks go in another transaction than the voters, as a flush would
    rng.shuffle(marks)
    bulk_write(CommitmentMark, ("id", "commitment_id", "answer"), marks, session=session)
    session.flush()


def _marks(session, rng, commitment, units, employee):
    unit = units[commitment.unit_id]
    prefix = f"{unit.path}{unit.id}/"
    below = {u.id for u in units.values() if u.id == unit.id or u.path.startswith(prefix)}
    voters = session.exec(select(User.id).where(User.unit_id.in_(below), User.active)).all()
    voters = [v for v in voters if employee is None or v != employee.id]
    chosen = [v for v in voters if rng.random() < 0.7]
    if not chosen:
        return []
    bulk_write(
        CommitmentVoter,
        ("commitment_id", "employee_id"),
        ((commitment.id, v) for v in chosen),
        session=session,
    )
    answers = rng.choices(["yes", "partly", "no"], weights=[5, 3, 2], k=len(chosen))
    return [(random_key(), commitment.id, a) for a in answers]
