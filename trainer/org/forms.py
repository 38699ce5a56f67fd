from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from trainer.access import ROLES
from trainer.forms import MultiCheckboxField
from trainer.org.models import UNIT_KINDS


class UnitForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired(),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                message="Use letters, digits, '-', '_' or '.', up to 64 characters.",
            ),
        ],
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=[(k, k.title()) for k in UNIT_KINDS])
    parent_id = SelectField("Parent unit", coerce=int, validators=[Optional()])


class RenameUnitForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])


class PersonForm(FlaskForm):
    email = EmailField("Email", validators=[Optional(), Email(), Length(max=254)])
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
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField("Unit", coerce=int)
    roles = MultiCheckboxField(
        "Roles",
        choices=[(r.value, r.label) for r in ROLES],
        validators=[DataRequired(message="Choose at least one role.")],
    )
    manager_of = SelectMultipleField("Manages (units)", coerce=int, validators=[Optional()])
    active = BooleanField("Active", default=True)


class ImportPeopleForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import.")])
    deactivate_missing = BooleanField("Deactivate active people who are not in the file")
    force = BooleanField("Allow deactivating more than 20% of active people")
