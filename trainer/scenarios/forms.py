from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from trainer.forms import WholeNumberField


class StartForm(FlaskForm):
    """Start or resume a play; the pressed button sends the mode."""

    mode = StringField("Mode", validators=[InputRequired(), AnyOf(["play", "practice"])])


class ChooseForm(FlaskForm):
    """One decision: each choice is a submit button named `choice` carrying its index.

    `node` and `step` say which decision the player was looking at, so a repeated or stale
    post can be told apart from a new one.
    """

    choice = WholeNumberField("Choice", validators=[InputRequired(), NumberRange(min=0)])
    node = HiddenField("Decision", validators=[InputRequired()])
    step = WholeNumberField("Step", widget=HiddenInput(), validators=[InputRequired(),
                                                                  NumberRange(min=0)])


class ReserveForm(FlaskForm):
    choice = WholeNumberField("Choice", validators=[InputRequired(), NumberRange(min=0)])
    node = HiddenField("Decision", validators=[InputRequired()])
