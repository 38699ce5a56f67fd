"""Course language variants: `01-start.de.md`, `quiz.de.gift` and `course.de.yaml` beside the
originals, shown to German learners, with one enrolment and one certificate per course."""

import re
from pathlib import Path

from sqlmodel import select

from tests.learn.learn_factory import QUIZ, course_files, write_course
from trainer.learn import quizzes, services, sync
from trainer.learn.lint import lint_course
from trainer.learn.loader import load_course_files, load_library
from trainer.learn.models import Certificate, Enrolment, QuizAnswer

SECRET = "test-secret"
DE_QUIZ = """\
::Kassenbon::Ein Kunde hat keinen Kassenbon. Was bieten Sie zuerst an? {
=Einen Gutschein#Richtig, die Regel erlaubt es.
~Nichts#Sie geht unzufrieden.
~Bargeld zurück#Nicht ohne Kassenbon.
}

::Stille::Wer sich nicht beschwert, ist immer zufrieden. {FALSE#So ist es nicht.#Genau.}

::Notiz::Was gehört in eine Beschwerdenotiz? {
~%50%Was passiert ist#Ja.
~%50%Was Sie getan haben#Ja.
~%-100%Wer schuld ist#Keine Schuldzuweisung.
}

::Paare::Ordnen Sie jede Bitte zu, was hilft. {
=Erstattung -> Geld zurück
=Umtausch -> Ein anderer Artikel
####Eine Erstattung gibt Geld zurück, ein Umtausch einen anderen Artikel.
}

::Wort::Ein Wort für die Nachricht eines unzufriedenen Kunden? {=Beschwerde =Reklamation}
"""
RIGHT_DE = {
    "q0": "Einen Gutschein",
    "q1": "false",
    "q2": ["Was passiert ist", "Was Sie getan haben"],
    "q3": {"Erstattung": "Geld zurück", "Umtausch": "Ein anderer Artikel"},
    "q4": "Beschwerde",
}
GERMAN = {
    "course.de.yaml": "title: Beispielkurs\nsummary: Ein kurzer Kurs für die Tests.\n",
    "01-start.de.md": "# Warum es zählt\n\nKunden, die sich beschweren, **bleiben**.\n",
    "02-listen.de.md": "# Erst zuhören\n\n- Ausreden lassen\n- Notizen machen\n",
    "quiz.de.gift": DE_QUIZ,
}


def files(**changes) -> dict[str, bytes]:
    german = {**GERMAN, **changes}
    extra = {name: text.encode() for name, text in german.items() if text is not None}
    return {**course_files(), **extra}


def problems(**changes) -> list[str]:
    return [str(p) for p in load_course_files("sample-course", files(**changes)).problems]


def german_answers(version, user_id, attempt) -> dict:
    data = {"version_id": str(version.id)}
    for i, question in enumerate(quizzes.questions_of(version)):
        key = f"q{i}"
        if question.type in ("mc", "multi"):
            order = quizzes.option_order(
                SECRET, user_id, version.id, attempt, i, len(question.answers)
            )
            texts = [question.answers[j].text for j in order]
            wanted = RIGHT_DE[key] if isinstance(RIGHT_DE[key], list) else [RIGHT_DE[key]]
            data[key] = [str(texts.index(t)) for t in wanted]
        elif question.type == "matching":
            for n, match in enumerate(m for m in question.matches if m.left):
                data[f"{key}-m{n}"] = RIGHT_DE[key][match.left]
        else:
            data[key] = RIGHT_DE[key]
    return data


def line_of(text: str, word: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if word in line)


def speak(session, user, language):
    user.locale = language
    session.add(user)
    session.commit()


def test_a_german_learner_takes_the_course_in_german_and_keeps_one_record(
    app, client, session, org, login_as
):
    app.config["SECRET_KEY"] = SECRET
    loaded = load_course_files("sample-course", files())
    assert not loaded.problems, [str(p) for p in loaded.problems]
    sync.save_course(session=session, loaded=loaded.course)
    session.commit()
    course = services.course_by_slug(session=session, slug="sample-course")
    speak(session, org.employee, "de")
    login_as(org.employee)

    assert "Beispielkurs" in client.get("/learn/courses/sample-course").get_data(as_text=True)
    assert "Beispielkurs" in client.get("/learn/").get_data(as_text=True)
    lesson = client.get("/learn/courses/sample-course/lessons/1").get_data(as_text=True)
    assert "<h1>Warum es zählt</h1>" in lesson and "<strong>bleiben</strong>" in lesson
    assert "Why it matters" not in lesson
    client.post("/learn/courses/sample-course/lessons/1/done")
    client.post("/learn/courses/sample-course/lessons/2/done")
    quiz = client.get("/learn/courses/sample-course/quiz").get_data(as_text=True)
    assert "Ein Kunde hat keinen Kassenbon" in quiz and "has no receipt" not in quiz

    from trainer.learn.variants import localized

    version = localized(services.version_for(session=session, course=course, enrolment=None), "de")
    response = client.post(
        "/learn/courses/sample-course/quiz", data=german_answers(version, org.employee.id, 1)
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    result = client.get(response.location).get_data(as_text=True)
    assert "Eine Erstattung gibt Geld zurück" in result  # feedback in German
    certificate = session.exec(select(Certificate)).one()
    assert certificate.course_id == course.id and certificate.score == 100
    # Answers are kept in the original's terms, so they count with the English ones.
    stored = {a.question: a.response for a in session.exec(select(QuizAnswer))}
    assert "Refund" in stored[3] and "Erstattung" not in stored[3]
    assert stored[0] == "0"

    speak(session, org.employee, "en")
    page = client.get("/learn/courses/sample-course").get_data(as_text=True)
    assert "Sample course" in page and "Beispielkurs" not in page
    assert f"/learn/certificates/{certificate.code}" in page
    assert "Why it matters" in client.get("/learn/courses/sample-course/lessons/1").get_data(
        as_text=True
    )
    assert len(session.exec(select(Enrolment)).all()) == 1
    assert len(session.exec(select(Certificate)).all()) == 1


def test_a_faithful_translation_loads_with_its_course():
    loaded = load_course_files("sample-course", files())
    assert not loaded.problems
    variant = loaded.course.variants["de"]
    assert variant.title == "Beispielkurs" and len(variant.lessons) == 2
    assert [q.type for q in variant.questions] == [q.type for q in loaded.course.questions]


def test_content_check_names_a_missing_lesson():
    found = problems(**{"02-listen.de.md": None})
    line = course_files()["course.yaml"].decode().splitlines().index("  - 02-listen.md") + 1
    assert found == [
        f"sample-course/course.yaml:{line}: lesson 02-listen.md has no 'de' translation: "
        "add 02-listen.de.md, as for the other lessons in 'de'"
    ]


def test_content_check_names_a_missing_quiz_and_an_orphan_translation():
    found = problems(**{"quiz.de.gift": None, "03-extra.de.md": "# Extra\n\nText.\n"})
    assert any(
        p.startswith("sample-course/03-extra.de.md:1: a translation of 03-extra.md") for p in found
    )
    found = problems(**{"quiz.de.gift": None})
    assert len(found) == 1 and "quiz quiz.gift has no 'de' translation" in found[0]


def test_content_check_names_a_quiz_with_other_questions():
    fewer = DE_QUIZ.split("\n\n::Wort::")[0] + "\n"
    assert problems(**{"quiz.de.gift": fewer}) == [
        "sample-course/quiz.de.gift:1: 4 questions, but quiz.gift has 5: "
        "translate every question, in the same order"
    ]


def test_content_check_names_a_question_with_other_answer_counts_or_keys():
    two = DE_QUIZ.replace("~Bargeld zurück#Nicht ohne Kassenbon.\n", "")
    assert problems(**{"quiz.de.gift": two}) == [
        "sample-course/quiz.de.gift:1: question 1 has 2 answers, but in quiz.gift (line 1) it has 3"
    ]
    moved = DE_QUIZ.replace("=Einen Gutschein", "~Einen Gutschein").replace("~Nichts", "=Nichts")
    found = problems(**{"quiz.de.gift": moved})
    assert len(found) == 1 and found[0].startswith("sample-course/quiz.de.gift:1: question 1")
    assert "marks other answers right" in found[0]
    flipped = DE_QUIZ.replace("{FALSE#", "{TRUE#")
    assert problems(**{"quiz.de.gift": flipped}) == [
        f"sample-course/quiz.de.gift:{line_of(DE_QUIZ, 'Stille')}: question 2 marks other "
        f"answers right than in quiz.gift (line {line_of(QUIZ, 'Silence')}): "
        "keep the right answers at the same positions"
    ]
    pairs = DE_QUIZ.replace(
        "=Umtausch -> Ein anderer Artikel\n",
        "=Umtausch -> Ein anderer Artikel\n=Reparatur -> Werkstatt\n",
    )
    assert problems(**{"quiz.de.gift": pairs}) == [
        "sample-course/quiz.de.gift:15: question 4 has 3 pairs, but in quiz.gift (line 15) it has 2"
    ]
    typed = DE_QUIZ.replace("{FALSE#So ist es nicht.#Genau.}", "{=Nein#So ist es nicht.}")
    found = problems(**{"quiz.de.gift": typed})
    assert found and "question 2 is short, but in quiz.gift" in found[0]


def test_content_check_prints_variant_problems_with_file_and_line(app, runner, tmp_path):
    folder = write_course(tmp_path / "courses")
    for name, text in GERMAN.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "quiz.de.gift").write_text(DE_QUIZ.split("\n\n::Wort::")[0] + "\n", encoding="utf-8")
    result = runner.invoke(args=["content", "check", "--dir", str(tmp_path / "courses")])
    assert result.exit_code == 1
    assert "courses/sample-course/quiz.de.gift:1: 4 questions" in result.output


def test_the_shipped_german_course_passes_content_check_and_lint(app):
    courses, found = load_library(Path(app.config["COURSES_DIR"]))
    assert not found, [str(p) for p in found]
    german = [c for c in courses if "de" in c.variants]
    assert german, "ship at least one course in German"
    for course in german:
        variant = course.variants["de"]
        assert len(variant.lessons) == len(course.lessons) and variant.title != course.title
        assert not re.search(
            r"\bdu\b|\bdein", " ".join(lesson.markdown for lesson in variant.lessons)
        )
        warnings = [str(w) for w in lint_course(course, course.id) if ".de." in w.file]
        assert not warnings, warnings
