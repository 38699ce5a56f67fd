from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import DataRequired, ValidationError

from trainer.util import utcnow


class QuizForm(FlaskForm):
    """The quiz's CSRF token and version; the answers are read by the view, question by
    question, because each quiz has its own questions."""

    version_id = HiddenField()


class AssignmentForm(FlaskForm):
    course_id = SelectField("Course", coerce=int, validators=[DataRequired("Choose a course.")])
    unit_id = SelectField("Unit", coerce=int, validators=[DataRequired("Choose a unit.")])
    due_on = DateField("Due date", validators=[DataRequired("Give a due date (YYYY-MM-DD).")])

    def validate_due_on(self, field):
        if field.data and field.data < utcnow().date():
            raise ValidationError("Choose today or a later date.")
