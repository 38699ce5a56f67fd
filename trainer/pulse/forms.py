from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from trainer.forms import MultiCheckboxField, WholeNumberField
from trainer.pulse.models import (
    ACTION_STATUSES,
    ITEM_KINDS,
    MARK_CHOICES,
    RECURRENCES,
    THEMES,
    ItemKind,
    Recurrence,
)
from trainer.pulse.submit import COMMENT_MAX


class ItemForm(FlaskForm):
    theme = SelectField(_l("Theme"), choices=list(THEMES.items()))
    kind = SelectField(
        _l("Scale"),
        choices=[
            (
                k,
                {
                    ItemKind.LIKERT: _l("Agreement, 1 to 5"),
                    ItemKind.ENPS: _l("Recommend, 0 to 10 (eNPS)"),
                }[k],
            )
            for k in ITEM_KINDS
        ],
    )
    text = StringField(_l("Wording"), validators=[DataRequired(), Length(min=10, max=300)])


class RewordForm(FlaskForm):
    text = StringField(_l("New wording"), validators=[DataRequired(), Length(min=10, max=300)])


def translation_form(languages: dict[str, str], data: dict[str, str] | None = None) -> FlaskForm:
    """A form with one wording field per language other than English, named by its code."""

    class TranslationForm(FlaskForm):
        pass

    for code, name in languages.items():
        if code != "en":
            setattr(
                TranslationForm, code, StringField(name, validators=[Optional(), Length(max=300)])
            )
    return TranslationForm(data=data)


class ProgrammeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    item_ids = MultiCheckboxField(
        _l("Items"), coerce=int, validators=[DataRequired(message=_l("Choose at least one item."))]
    )
    unit_ids = MultiCheckboxField(
        _l("Audience (units)"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose at least one unit."))],
    )
    recurrence = SelectField(
        _l("Recurrence"), choices=list(RECURRENCES.items()), default=Recurrence.QUARTERLY
    )
    starts_on = DateField(_l("First opening day"), validators=[DataRequired()])
    window_days = WholeNumberField(
        _l("Days open"), default=14, validators=[DataRequired(), NumberRange(1, 60)]
    )
    reminder_days = StringField(
        _l("Reminder days"),
        default="3,7",
        validators=[
            Optional(),
            Regexp(
                r"^\s*\d{1,2}(\s*,\s*\d{1,2})*\s*$",
                message=_l("Write days as numbers separated by commas, e.g. 3,7."),
            ),
        ],
    )
    budget_per_quarter = WholeNumberField(
        _l("Survey budget per person per quarter"),
        default=2,
        validators=[DataRequired(), NumberRange(1, 12)],
    )
    comment_prompt = StringField(_l("Comment question (optional)"), validators=[Length(max=300)])


class AnswerForm(FlaskForm):
    """The survey's comment box; the items are radio groups read by submit.parse_answers."""

    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=COMMENT_MAX)])


class ActionForm(FlaskForm):
    """A new action; the view fills the owner and "answers" choices for the unit and cycle."""

    text = StringField(
        _l("What will you do?"),
        validators=[DataRequired(message=_l("Write what you will do.")), Length(max=300)],
    )
    details = TextAreaField(_l("Details (optional)"), validators=[Length(max=1000)])
    answers = SelectField(
        _l("Which result does it answer?"),
        validators=[DataRequired(message=_l("Choose the theme or question this action answers."))],
    )
    owner_id = SelectField(
        _l("Owner"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose who owns this action."))],
    )
    due_on = DateField(
        _l("Due date"),
        validators=[DataRequired(message=_l("Give a due date, for example 2027-01-31."))],
    )


class ActionStatusForm(FlaskForm):
    """A status update of one action; made with prefix "a<id>" so each action has its own."""

    status = SelectField(_l("New status"), choices=list(ACTION_STATUSES.items()))
    note = StringField(
        _l("Note"),
        validators=[
            DataRequired(message=_l("Write a short note about what happened.")),
            Length(max=300),
        ],
    )


class MarkForm(FlaskForm):
    answer = RadioField(
        _l("Did this happen?"),
        choices=list(MARK_CHOICES.items()),
        validators=[DataRequired(message=_l("Choose an answer."))],
    )
