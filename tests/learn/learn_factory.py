"""Build small course folders and course data for the learn tests and the access matrix."""

from pathlib import Path

from trainer.learn import progress, quizzes, services, sync
from trainer.learn.loader import load_course_files

QUIZ = """\
::Receipt::A customer has no receipt. What do you offer first? {
=Store credit#Right: policy allows it.
~Nothing#She leaves unhappy.
~A cash refund#Not without a receipt.
}

::Silence::A customer who does not complain is always satisfied. {FALSE#Not so.#Right.}

::Log it::Which belong in a complaint note? {
~%50%What happened#Yes.
~%50%What you did#Yes.
~%-100%Who to blame#No blame.
}

::Pairs::Match each request to what helps. {
=Refund -> Money back
=Exchange -> Another item
####A refund gives money back; an exchange gives another item.
}

::Word::One word for an unhappy customer's message? {=grievance =gripe}
"""

RIGHT = {
    "q0": "Store credit",
    "q1": "false",
    "q2": ["What happened", "What you did"],
    "q3": {"Refund": "Money back", "Exchange": "Another item"},
    "q4": "grievance",
}


def course_files(
    slug="sample-course",
    title="Sample course",
    pass_mark=80,
    quiz=QUIZ,
    lessons=None,
    extra_yaml="",
) -> dict[str, bytes]:
    """Return the files of a small, valid course (name -> bytes)."""
    lessons = lessons or {
        "01-start.md": "# Why it matters\n\nCustomers who complain **stay**.\n",
        "02-listen.md": "# Listen first\n\n- Let them finish\n- Take notes\n",
    }
    lesson_lines = "".join(f"  - {name}\n" for name in lessons)
    yaml_text = (
        f"id: {slug}\ntitle: {title}\nsummary: A short course for the tests.\n"
        f"audience: employee\nestimated_minutes: 10\npass_mark: {pass_mark}\n"
        f"lessons:\n{lesson_lines}" + ("quiz: quiz.gift\n" if quiz else "") + extra_yaml
    )
    files = {"course.yaml": yaml_text.encode(), **{k: v.encode() for k, v in lessons.items()}}
    if quiz:
        files["quiz.gift"] = quiz.encode()
    return files


def write_course(courses_dir: Path, slug="sample-course", **kwargs) -> Path:
    folder = Path(courses_dir) / slug
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, data in course_files(slug, **kwargs).items():
        (folder / name).write_bytes(data)
    return folder


def add_course(session, slug="sample-course", **kwargs):
    """Store a course straight from in-memory files; return the Course."""
    loaded = load_course_files(slug, course_files(slug, **kwargs))
    assert not loaded.problems, [str(p) for p in loaded.problems]
    sync.save_course(session=session, loaded=loaded.course)
    session.flush()
    return services.course_by_slug(session=session, slug=slug)


def form_answers(version, user_id, attempt, secret, wrong=()):
    """Return quiz form data for the sample quiz: all right except question indexes `wrong`."""
    questions = quizzes.questions_of(version)
    data = {}
    for i, question in enumerate(questions):
        key = f"q{i}"
        if question.type in ("mc", "multi"):
            order = quizzes.option_order(
                secret, user_id, version.id, attempt, i, len(question.answers)
            )
            texts = [question.answers[j].text for j in order]
            wanted = (
                RIGHT[key]
                if i not in wrong
                else ("Nothing" if question.type == "mc" else ["Who to blame"])
            )
            wanted = [wanted] if isinstance(wanted, str) else wanted
            data[key] = [str(texts.index(t)) for t in wanted]
        elif question.type == "matching":
            pairs = (
                RIGHT[key]
                if i not in wrong
                else {"Refund": "Another item", "Exchange": "Money back"}
            )
            lefts = [m.left for m in question.matches if m.left]
            for n, left in enumerate(lefts):
                data[f"{key}-m{n}"] = pairs[left]
        elif question.type == "truefalse":
            data[key] = RIGHT[key] if i not in wrong else "true"
        else:
            data[key] = RIGHT[key] if i not in wrong else "no idea"
    return data


def sample(ctx, name):
    """Create (once per matrix test) a course with an employee's passed attempt, certificate
    and assignments in and out of the manager's scope; return the value called `name`."""
    from trainer.learn.models import Assignment
    from trainer.util import utcnow

    if "learn" not in ctx.cache:
        session, org = ctx.session, ctx.org
        course = add_course(session)
        version = services.version_for(session=session, course=course, enrolment=None)
        enrolment = progress.start_course(session=session, user=org.employee, course=course)
        questions = quizzes.questions_of(version)
        attempt = quizzes.submit_quiz(
            session=session,
            user=org.employee,
            enrolment=enrolment,
            version=version,
            responses=response_values(questions),
        )
        certificate = services.certificate_for(session=session, user=org.employee, course=course)
        today = utcnow().date()
        inside = Assignment(course_id=course.id, unit_id=org.t1.id, due_on=today)
        outside = Assignment(course_id=course.id, unit_id=org.t3.id, due_on=today)
        session.add_all([inside, outside])
        session.commit()
        ctx.cache["learn"] = {
            "course_slug": course.slug,
            "lesson_no": 1,
            "attempt_id": attempt.id,
            "cert_code": certificate.code,
            "assignment_id": inside.id,
            "assignment_out": outside.id,
        }
    return ctx.cache["learn"][name]


def response_values(questions, wrong=()):
    """Return scorer responses for the sample quiz: all right except the indexes in `wrong`."""
    responses = {}
    for i, question in enumerate(questions):
        key = f"q{i}"
        if question.type == "mc":
            target = RIGHT[key] if i not in wrong else "Nothing"
            responses[i] = [a.text for a in question.answers].index(target)
        elif question.type == "multi":
            targets = RIGHT[key] if i not in wrong else ["Who to blame"]
            responses[i] = [[a.text for a in question.answers].index(t) for t in targets]
        elif question.type == "truefalse":
            responses[i] = (RIGHT[key] == "true") if i not in wrong else True
        elif question.type == "matching":
            responses[i] = (
                RIGHT[key]
                if i not in wrong
                else {"Refund": "Another item", "Exchange": "Money back"}
            )
        else:
            responses[i] = RIGHT[key] if i not in wrong else "no idea"
    return responses
