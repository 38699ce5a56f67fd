"""Roles: an enum stored as the same comma-separated strings, refusing names that are no role."""

import pytest

from trainer.access import Role, allow, join_roles, parse_roles
from trainer.auth.models import User


def test_roles_are_stored_as_the_same_strings():
    user = User(email="a@example.com", name="A", roles=join_roles(["employee", Role.HR]))
    assert user.roles == "employee,hr"
    assert user.role_set == {Role.EMPLOYEE, Role.HR}
    assert parse_roles("") == frozenset()


def test_has_role_takes_roles_or_their_names():
    user = User(email="a@example.com", name="A", roles="employee,manager")
    assert user.has_role(Role.MANAGER) and user.has_role("hr", "manager")
    assert not user.has_role(Role.HR, Role.ADMIN)


def test_a_name_that_is_no_role_is_refused():
    user = User(email="a@example.com", name="A", roles="employee")
    with pytest.raises(ValueError, match="'managr' is not a valid Role"):
        user.has_role("managr")
    with pytest.raises(ValueError, match="'hrr' is not a valid Role"):
        allow("hrr")


def test_roles_read_as_people_say_them():
    assert [role.label for role in Role] == ["Employee", "Manager", "HR", "Admin"]
