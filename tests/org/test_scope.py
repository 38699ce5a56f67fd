"""The org scope a person may see, and the unit picker built from it."""

from trainer.org.scope import scope_unit_ids, unit_choices


def test_unit_choices_indent_each_unit_by_its_depth(session, org):
    labels = dict(unit_choices(session=session))
    assert labels[org.company.id] == "C (C)"
    assert labels[org.s1.id] == "\u2003\u2003S1 (S1)"
    assert labels[org.t1.id] == "\u2003\u2003\u2003T1 (T1)"
    assert [unit_id for unit_id, _ in unit_choices(session=session)][:3] == [
        org.company.id,
        org.r1.id,
        org.s1.id,
    ]


def test_unit_choices_keep_to_the_scope_and_put_the_blank_first(session, org):
    scope = scope_unit_ids(session=session, user=org.manager)
    choices = unit_choices(session=session, scope=scope, blank="(every unit)")
    assert choices[0] == (0, "(every unit)")
    assert {unit_id for unit_id, _ in choices[1:]} == {org.s1.id, org.t1.id, org.t2.id}


def test_hr_sees_every_unit_and_an_employee_none(session, org):
    assert scope_unit_ids(session=session, user=org.hr) is None
    assert scope_unit_ids(session=session, user=org.employee) == set()
