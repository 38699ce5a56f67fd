from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import AnyOf

RATING_CHOICES = [
    ("", _l("Not rated")),
    ("1", _l("1: rarely puts customers first")),
    ("2", "2"),
    ("3", _l("3: sometimes")),
    ("4", "4"),
    ("5", _l("5: always puts customers first")),
]


class RatingsForm(FlaskForm):
    """One 1-5 rating per team; the fields are added per team by `ratings_form`."""

    period = HiddenField("Quarter")


def ratings_form(teams, periods: list[str], period: str, current: dict[int, int]):
    """Return a form with a rating field per team, filled with the person's ratings."""

    class Form(RatingsForm):
        pass

    Form.period = HiddenField("Quarter", default=period, validators=[AnyOf(periods)])
    # No Optional(): "" is itself the "Not rated" choice, and Optional() would clear the
    # "Not a valid choice" error of a value such as " ".
    for team in teams:
        setattr(
            Form,
            field_name(team.id),
            SelectField(
                f"{team.name} ({team.code})",
                choices=RATING_CHOICES,
                default=str(current.get(team.id, "")),
            ),
        )
    return Form()


def field_name(unit_id: int) -> str:
    return f"team_{unit_id}"


def submitted_ratings(form, teams) -> dict[int, int | None]:
    """Return {unit_id: rating or None} from a validated form."""
    out = {}
    for team in teams:
        value = form[field_name(team.id)].data
        out[team.id] = int(value) if value else None
    return out
