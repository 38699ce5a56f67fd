from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from trainer.access import ROLES
from trainer.forms import MultiCheckboxField
from trainer.org.models import UNIT_KIND_NAMES, UNIT_KINDS


class UnitForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                message=_l("Use letters, digits, '-', '_' or '.', up to 64 characters."),
            ),
        ],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[(k, UNIT_KIND_NAMES[k]) for k in UNIT_KINDS])
    parent_id = SelectField(_l("Parent unit"), coerce=int, validators=[Optional()])


class RenameUnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class PersonForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    employee_number = StringField(
        _l("Employee number"),
        validators=[
            Optional(),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$",
                message=_l("Use letters, digits, '-', '_', '.' or '/', up to 64 characters."),
            ),
        ],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField(_l("Unit"), coerce=int)
    roles = MultiCheckboxField(
        _l("Roles"),
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )
    manager_of = SelectMultipleField(_l("Manages (units)"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.roles.choices = [(r.value, r.label) for r in ROLES]  # in the reader's language


class ImportPeopleForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file to import."))])
    deactivate_missing = BooleanField(_l("Deactivate active people who are not in the file"))
    force = BooleanField(_l("Allow deactivating more than one in five active people"))
