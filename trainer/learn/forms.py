from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import DataRequired, ValidationError

from trainer.util import utcnow


class QuizForm(FlaskForm):
    """The quiz's CSRF token and version; the answers are read by the view, question by
    question, because each quiz has its own questions."""

    version_id = HiddenField()


class AssignmentForm(FlaskForm):
    course_id = SelectField(
        _l("Course"), coerce=int, validators=[DataRequired(_l("Choose a course."))]
    )
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[DataRequired(_l("Choose a unit."))])
    due_on = DateField(
        _l("Due date"), validators=[DataRequired(_l("Give a due date (YYYY-MM-DD)."))]
    )

    def validate_due_on(self, field):
        if field.data and field.data < utcnow().date():
            raise ValidationError(_l("Choose today or a later date."))
