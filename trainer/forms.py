"""Form pieces every feature uses: CSRF protection, shared fields, and the one way to read a
whole number or a quarter from the query."""

import math
from collections.abc import Collection

from flask import Flask, abort, request
from flask_babel import gettext as _
from flask_wtf import CSRFProtect, FlaskForm
from wtforms import IntegerField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from trainer.util import DB_INT_MAX

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    csrf.init_app(app)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WholeNumberField(IntegerField):
    """An IntegerField that refuses numbers no database integer holds, before any validator
    runs (NumberRange itself raises OverflowError on a number of hundreds of digits)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not -DB_INT_MAX <= self.data <= DB_INT_MAX:
            self.data = None
            raise ValueError(
                _(
                    "Enter a whole number between %(low)s and %(high)s.",
                    low=format(-DB_INT_MAX, ","),
                    high=format(DB_INT_MAX, ","),
                )
            )


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons."""


def int_arg(
    name: str, default: int | None = None, *, low: int = 1, high: int = DB_INT_MAX
) -> int | None:
    """Return the query parameter `name` as a whole number, or `default` when it is absent or
    blank; answer 400 naming the parameter when it is not a whole number from `low` to `high`."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        abort(
            400,
            _(
                "The parameter '%(name)s' must be a whole number from %(low)s to %(high)s.",
                name=name,
                low=format(low, ","),
                high=format(high, ","),
            ),
        )
    return value


def period_arg(offered: Collection[str] | None = None, default: str | None = None) -> str | None:
    """Return the quarter in `?period=` as given (trimmed), or `default` when it is absent or
    blank or, with `offered`, not one of the quarters on offer."""
    period = request.args.get("period", "").strip()
    if not period or (offered is not None and period not in offered):
        return default
    return period


def finite(form, field):
    """Refuse 'nan', 'inf' and numbers too large to store (a validator for FloatField)."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_("Enter an ordinary number."))
