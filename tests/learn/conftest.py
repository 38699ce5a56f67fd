import pytest

from tests.learn.learn_factory import add_course, write_course


@pytest.fixture
def courses_dir(tmp_path):
    """A courses/ folder holding one valid course, `sample-course`."""
    folder = tmp_path / "courses"
    write_course(folder)
    return folder


@pytest.fixture
def course(session):
    """The sample course, stored in the database."""
    course = add_course(session)
    session.commit()
    return course
