"""The insights pages' sentences, in the reader's language.

Analyses are worked out once and stored (in English, for the JSON and CSV downloads); the
pages word them again, from the stored numbers, when they are shown. This module is light: it
imports no part of the statistics stack.
"""

import re

from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainer.i18n import number
from trainer.outcomes.validation import metric_name
from trainer.util import N_

# The org levels an analysis compares, by the plural its documents carry: (one, many).
LEVEL_WORDS = {
    "teams": (_l("team"), _l("teams")),
    "sites": (_l("site"), _l("sites")),
    "regions": (_l("region"), _l("regions")),
    "units": (_l("unit"), _l("units")),
}


def level_words(plural: str) -> tuple[str, str]:
    """Return the singular and plural of an org level ("teams") in the reader's language."""
    one, many = LEVEL_WORDS.get(plural, (plural[:-1], plural))
    return str(one), str(many)


# Stored reasons that carry numbers, and their words with the numbers left open.
_COUNTED = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (
            r"Needs at least (\d+) units with two or more consecutive quarters, has (\d+)\.",
            N_("Needs at least %(min)d units with two or more consecutive quarters, has %(n)d."),
        ),
        (
            r"Needs at least (\d+) units with two or more quarters, has (\d+)\.",
            N_("Needs at least %(min)d units with two or more quarters, has %(n)d."),
        ),
        (
            r"Needs at least (\d+) units, has (\d+)\.",
            N_("Needs at least %(min)d units, has %(n)d."),
        ),
        (
            r"Needs at least (\d+) quarters, has (\d+)\.",
            N_("Needs at least %(min)d quarters, has %(n)d."),
        ),
        (
            r"Needs at least (\d+) pairs, has (\d+)\.",
            N_("Needs at least %(min)d pairs, has %(n)d."),
        ),
        (
            r"Needs at least (\d+) responses, has (\d+)\.",
            N_("Needs at least %(min)d responses, has %(n)d."),
        ),
    )
)


# Stored notes with words or decimals in them: each named group fills its placeholder.
_NAMED = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (
            r"(?P<metric>.+) has no share with a known sampling spread, so it cannot be placed "
            r"on a funnel plot\.",
            N_(
                "%(metric)s has no share with a known sampling spread, so it cannot be placed "
                "on a funnel plot."
            ),
        ),
        (
            r"(?P<outside>\d+) of (?P<units>\d+) units fall outside the 95% limits \(about "
            r"(?P<expected>\d+) expected by chance\): units differ more than sampling noise "
            r"explains \(dispersion (?P<dispersion>[\d.]+)\), so the limits are too narrow; "
            r"widen them for over-dispersion before reading single units\.",
            N_(
                "%(outside)s of %(units)s units fall outside the 95%% limits (about "
                "%(expected)s expected by chance): units differ more than sampling noise "
                "explains (dispersion %(dispersion)s), so the limits are too narrow; widen them "
                "for over-dispersion before reading single units."
            ),
        ),
    )
)


def reason(text: str | None) -> str:
    """A stored plain reason in the reader's language, when the catalogue has it."""
    if not text:
        return text or ""
    for pattern, msgid in _COUNTED:
        if found := pattern.fullmatch(text):
            return _(msgid, min=int(found[1]), n=int(found[2]))
    for pattern, msgid in _NAMED:
        if found := pattern.fullmatch(text):
            names = found.groupdict()
            if "dispersion" in names:
                names["dispersion"] = number(float(names["dispersion"]), 1)
            return _(msgid, **names)
    return _(text)


def estimate_number(value: float) -> str:
    text = number(value, 2) if has_app_context() else f"{value:.2f}"
    return text.replace("-", "\u2212")


def when(lag: int) -> str:
    return _("the next quarter") if lag == 1 else _("%(num)d quarters later", num=lag)


def estimate_text(details: dict) -> str:
    return _(
        "estimate %(estimate)s, 95%% CI %(low)s to %(high)s",
        estimate=estimate_number(details["estimate"]),
        low=estimate_number(details["ci_low"]),
        high=estimate_number(details["ci_high"]),
    )


def _units_and_size(result: dict, unit_label: str) -> tuple[str, str]:
    """The plural of the level, and how much data a result rests on ("17 teams, 8 quarters")."""
    units = level_words(unit_label)[1]
    size = _(
        "%(n_units)d %(units)s, %(n_quarters)d quarters",
        n_units=result["n_units"],
        units=units,
        n_quarters=result["n_quarters"],
    )
    return units, size


def headline_sentence(headline: dict, metric_label: str, unit_label: str = "sites") -> str:
    """Return a sentence a manager can read for a ``headline_model`` result (§9)."""
    caveat = _("Correlation, not causation.")
    if headline["status"] != "ok":
        return _(
            "Not enough data yet to relate morale to %(metric)s: %(reason)s",
            metric=metric_label,
            reason=reason(headline["reason"]),
        )
    units, size = _units_and_size(headline, unit_label)
    both = headline["both"]
    direction = headline["direction"]
    if direction == "none":
        figures = {
            "metric": metric_label,
            "morale_first": estimate_text(both["morale_leads"]),
            "metric_first": estimate_text(both["customer_leads"]),
            "size": size,
        }
        if headline["lag"] == 1:
            text = _(
                "We found no clear link between morale and %(metric)s one quarter apart in "
                "either direction (morale first: %(morale_first)s; %(metric)s first: "
                "%(metric_first)s; %(size)s). This does not show that there is no link, only "
                "that these data cannot tell.",
                **figures,
            )
        else:
            text = _(
                "We found no clear link between morale and %(metric)s %(lag)d quarters apart in "
                "either direction (morale first: %(morale_first)s; %(metric)s first: "
                "%(metric_first)s; %(size)s). This does not show that there is no link, only "
                "that these data cannot tell.",
                lag=headline["lag"],
                **figures,
            )
        return f"{text} {caveat}"
    figures = {
        "units": units.capitalize(),
        "metric": metric_label,
        "when": when(headline["lag"]),
        "estimate": estimate_text(headline),
        "size": size,
    }
    rose = headline["estimate"] > 0
    if direction == "morale_leads":
        figures["reverse"] = estimate_text(both["customer_leads"])
        text = (
            _(
                "%(units)s whose morale rose tended to see %(metric)s rise %(when)s "
                "(%(estimate)s; %(size)s). The reverse order (%(metric)s first): %(reverse)s.",
                **figures,
            )
            if rose
            else _(
                "%(units)s whose morale rose tended to see %(metric)s fall %(when)s "
                "(%(estimate)s; %(size)s). The reverse order (%(metric)s first): %(reverse)s.",
                **figures,
            )
        )
    else:
        figures["reverse"] = estimate_text(both["morale_leads"])
        text = (
            _(
                "%(units)s whose %(metric)s rose tended to see morale rise %(when)s "
                "(%(estimate)s; %(size)s). The reverse order (morale first): %(reverse)s.",
                **figures,
            )
            if rose
            else _(
                "%(units)s whose %(metric)s rose tended to see morale fall %(when)s "
                "(%(estimate)s; %(size)s). The reverse order (morale first): %(reverse)s.",
                **figures,
            )
        )
    return f"{text} {caveat}"


def behaviour_sentence(
    result: dict, label: str, higher_is_better: bool, unit_label: str = "sites"
) -> str:
    """Word the link between fixing problems on the spot and a customer measure."""
    caveat = _("Correlation, not causation.")
    if result["status"] != "ok":
        return _(
            "Not enough data yet to relate fixing problems on the spot to %(metric)s: %(reason)s",
            metric=label,
            reason=reason(result["reason"]),
        )
    units, size = _units_and_size(result, unit_label)
    both = result["both"]
    figures = {
        "units": units.capitalize(),
        "metric": label,
        "size": size,
        "fixing_first": estimate_text(both["morale_leads"]),
        "metric_first": estimate_text(both["customer_leads"]),
    }
    if result["direction"] == "none":
        text = _(
            "We found no clear link between fixing problems on the spot and %(metric)s one "
            "quarter apart in either direction (fixing first: %(fixing_first)s; %(metric)s "
            "first: %(metric_first)s; %(size)s). This does not show that there is no link, "
            "only that these data cannot tell.",
            **figures,
        )
        return f"{text} {caveat}"
    rose = result["estimate"] > 0
    figures["estimate"] = estimate_text(result)
    if result["direction"] == "morale_leads":
        if higher_is_better:
            figures["seen"] = (
                _("%(metric)s rise", metric=label) if rose else _("%(metric)s fall", metric=label)
            )
        else:
            counted = label.split(" per ")[0].lower()
            figures["seen"] = (
                _("more %(things)s", things=counted)
                if rose
                else _("fewer %(things)s", things=counted)
            )
        text = _(
            "%(units)s that fixed more problems on the spot tended to see %(seen)s the next "
            "quarter (%(estimate)s; %(size)s). The reverse order (%(metric)s first): "
            "%(metric_first)s.",
            **figures,
        )
    elif rose:
        text = _(
            "%(units)s whose %(metric)s rose tended to fix more problems on the spot the next "
            "quarter (%(estimate)s; %(size)s). The reverse order (fixing first): %(fixing_first)s.",
            **figures,
        )
    else:
        text = _(
            "%(units)s whose %(metric)s rose tended to fix fewer problems on the spot the next "
            "quarter (%(estimate)s; %(size)s). The reverse order (fixing first): %(fixing_first)s.",
            **figures,
        )
    return f"{text} {caveat}"


def localized(result: dict, metric_label: str | None = None) -> dict:
    """A copy of a stored analysis with its headline worded in the reader's language."""
    if not result or not result.get("headline"):
        return result
    headline = dict(result["headline"])
    if "both" in headline or headline.get("status") != "ok":
        headline["sentence"] = headline_sentence(
            headline,
            metric_label or metric_name(result["metric_label"]),
            result.get("units_label", "sites"),
        )
    headline["reason"] = reason(headline.get("reason"))
    behaviour = result.get("behaviour")
    if behaviour and ("both" in behaviour or behaviour.get("status") != "ok"):
        behaviour = {
            **behaviour,
            "sentence": behaviour_sentence(
                behaviour,
                metric_label or metric_name(result["metric_label"]),
                result.get("higher_is_better", True),
                result.get("units_label", "sites"),
            ),
        }
    return {**result, "headline": headline, "behaviour": behaviour}
