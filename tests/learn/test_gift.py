"""Tests for the GIFT parser, the scorer and the public question view."""

import json
import math
import re
from pathlib import Path

import pytest

from trainer.learn.gift import Answer, Match, Problem, Question, TrueFalse, parse_gift
from trainer.learn.grading import public_view, score

CASES = Path(__file__).parent / "gift_cases"
REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = (REPO_ROOT.parent / "shared" / "corpora" / "gift" / "gift-pegjs").resolve()


def parse_case(name):
    return parse_gift((CASES / name).read_text(encoding="utf-8"), name)


def by_title(result):
    return {q.title: q for q in result.questions}


def only_question(text):
    """Parse text that must hold exactly one well-formed question."""
    result = parse_gift(text)
    assert result.problems == []
    assert len(result.questions) == 1
    return result.questions[0]


def messages(text):
    return [(p.line, p.message) for p in parse_gift(text, "quiz.gift").problems]


# ------------------------------------------------------------------- our own cases: types


def test_customer_care_file_has_one_question_of_every_type():
    result = parse_case("customer_care.gift")

    assert result.problems == []
    assert [(q.line, q.type, q.title) for q in result.questions] == [
        (7, "mc", "No receipt"),
        (14, "truefalse", "Escalation"),
        (16, "multi", "Good habits"),
        (23, "short", "Store credit"),
        (27, "numerical", "Return window"),
        (29, "matching", "Words"),
        (35, "description", "Welcome"),
        (37, "essay", "Your story"),
    ]


def test_multiple_choice_with_feedback_partial_credit_and_general_feedback():
    question = by_title(parse_case("customer_care.gift"))["No receipt"]

    assert question.text == "A customer has no receipt. You…"
    assert question.text_format == "moodle"
    assert question.answers == [
        Answer("offer store credit", 1.0, "She keeps shopping with you."),
        Answer("refuse politely", 0.0, "She leaves and posts a one-star review."),
        Answer("call the duty manager", 0.5, "Slower, but the refund is approved."),
    ]
    assert question.general_feedback == "Policy 4.2 allows store credit up to 50 €."
    assert question.missing_word is False


def test_choices_without_an_equals_sign_become_multiple_answer_with_penalties():
    question = by_title(parse_case("customer_care.gift"))["Good habits"]

    assert question.type == "multi"
    assert [(a.text, a.fraction) for a in question.answers] == [
        ("Using their name", 0.5),
        ("Repeating their problem back to them", 0.5),
        ("Telling them to calm down", -1.0),
        ("Talking faster", 0.0),
    ]
    assert question.answers[2].feedback == "This usually makes it worse."


def test_decimal_weights_that_round_to_100_percent_are_accepted():
    question = only_question("Pick the three. {~%33.33333%a ~%33.33333%b ~%33.33333%c ~d}")

    assert question.type == "multi"
    assert question.answers[0].fraction == pytest.approx(0.3333333)


def test_short_answer_with_weights_in_missing_word_form():
    question = by_title(parse_case("customer_care.gift"))["Store credit"]

    assert question.text == "Store credit is also called a _____ by the tills team."
    assert question.missing_word is True
    assert question.answers == [
        Answer("voucher", 1.0),
        Answer("coupon", 0.5, "Close: coupons are discounts."),
    ]


def test_a_single_answer_without_equals_sign_is_a_short_answer():
    question = only_question("What do we call a returned item? {return}")

    assert question.type == "short"
    assert question.answers == [Answer("return", 1.0)]


def test_matching_pairs_and_a_distractor_with_empty_left():
    words = by_title(parse_case("customer_care.gift"))["Words"]
    assert words.matches == [
        ("Refund", "Money back", "moodle"),
        ("Exchange", "Another item", "moodle"),
        ("Credit", "Store voucher", "moodle"),
    ]

    tools = parse_case("formats.gift").questions[1]
    assert tools.type == "matching"
    assert tools.matches[2] == Match("", "Cleaning", "markdown")


def test_description_and_essay_with_general_feedback():
    questions = by_title(parse_case("customer_care.gift"))

    assert questions["Welcome"].type == "description"
    assert questions["Welcome"].text == "The next questions are about handling complaints."
    assert questions["Welcome"].scorable is False
    assert questions["Your story"].type == "essay"
    assert questions["Your story"].general_feedback == "Think about what the customer felt."
    assert questions["Your story"].scorable is False


def test_categories_apply_to_the_questions_that_follow():
    result = parse_case("customer_care.gift")

    assert result.categories == [
        "$course$/Customer care/Refunds",
        "$course$/Customer care/Policies",
    ]
    assert [q.category for q in result.questions] == (
        ["$course$/Customer care/Refunds"] * 4 + ["$course$/Customer care/Policies"] * 4
    )
    assert parse_gift("Before any category {T}").questions[0].category is None


def test_id_and_tags_come_from_comment_lines_of_the_question():
    questions = parse_case("customer_care.gift").questions

    assert questions[0].id == "cc-001"
    assert questions[0].tags == ["refunds", "receipts"]
    assert questions[1].id is None
    assert questions[1].tags == []


def test_comment_lines_are_ignored_everywhere_in_a_question():
    question = only_question(
        "// before\nWhich colour is the till roll? {\n// inside the answers\n=white\n~blue\n}\n"
        "// after"
    )

    assert question.line == 2
    assert [a.text for a in question.answers] == ["white", "blue"]


def test_only_lines_that_start_with_two_slashes_are_comments():
    question = only_question("See https://example.com/returns first. {T}")

    assert question.text == "See https://example.com/returns first."


# ------------------------------------------------------------------------ true/false


def test_true_false_feedback_follows_moodle_wrong_then_right():
    questions = by_title(parse_case("truefalse.gift"))

    assert questions["TF bare"].truefalse == TrueFalse(True)
    assert questions["TF true two"].truefalse == TrueFalse(
        True,
        feedback_if_true="Right: they can hear it.",
        feedback_if_false="Wrong: they can hear it.",
    )
    # With one feedback, it is the one shown for the wrong answer.
    assert questions["TF true one"].truefalse == TrueFalse(
        True, feedback_if_true="", feedback_if_false="Only for people who answered false."
    )
    assert questions["TF false two"].truefalse == TrueFalse(
        False, feedback_if_true="Never share it.", feedback_if_false="Correct, never."
    )
    assert questions["TF false one"].truefalse == TrueFalse(
        False, feedback_if_true="They are required.", feedback_if_false=""
    )
    assert questions["TF general"].general_feedback == "See the uniform guide."


@pytest.mark.parametrize(
    "answer, correct", [("T", True), ("TRUE", True), ("F", False), ("FALSE", False)]
)
def test_true_false_markers(answer, correct):
    question = only_question(f"Receipts are optional. {{{answer}}}")

    assert question.type == "truefalse"
    assert question.truefalse.correct is correct


@pytest.mark.parametrize("answer", ["true", "True", "t", "false", "f"])
def test_true_false_check_is_case_sensitive(answer):
    question = only_question(f"Type the word. {{{answer}}}")

    assert question.type == "short"
    assert question.answers == [Answer(answer, 1.0)]


def test_lower_case_true_in_case_file_is_a_short_answer():
    question = by_title(parse_case("truefalse.gift"))["TF lower case"]

    assert question.type == "short"
    assert question.answers[0].text == "true"


# ------------------------------------------------------------------------- numerical


def test_numerical_answers():
    questions = by_title(parse_case("numerical.gift"))

    def values(title):
        return [(a.value, a.tolerance, a.fraction, a.feedback) for a in questions[title].answers]

    assert values("Exact") == [(12.0, 0.0, 1.0, "")]
    assert values("Tolerance") == [(150.0, 5.0, 1.0, "")]
    assert values("Range") == [(3.0, 2.0, 1.0, "")]
    assert values("Several") == [
        (5.0, 0.0, 1.0, "Exactly right."),
        (5.0, 2.0, 0.5, "Close enough."),
        (None, None, 0.0, "Check the refund policy."),
    ]
    assert questions["Several"].answers[2].text == "*"
    assert values("Freezer") == [(-18.0, 2.0, 1.0, "")]
    assert questions["Freezer"].general_feedback == "Minus eighteen degrees."
    assert questions["Blank"].text == "A full shift is _____ hours long."
    assert questions["Blank"].missing_word is True


def test_numerical_negative_range_and_exponent():
    answer = only_question("Pick one. {#-3.5..-2.5}").answers[0]
    assert (answer.value, answer.tolerance) == (-3.0, 0.5)

    assert only_question("Big. {#1e3:1.5e1}").answers[0].value == 1000.0


def test_numerical_catch_all_without_feedback():
    question = only_question("How many? {#=4 ~}")

    assert [(a.text, a.value, a.feedback) for a in question.answers] == [
        ("4", 4.0, ""),
        ("*", None, ""),
    ]


# ---------------------------------------------------------------------------- escapes


def test_escapes_in_titles_texts_answers_and_feedback():
    questions = parse_case("escapes.gift").questions

    ratio = questions[0]
    assert ratio.title == "Ratio 3:1"
    assert ratio.text == "Mix cleaner and water 3:1. Which bottle?"
    assert [(a.text, a.fraction, a.feedback) for a in ratio.answers] == [
        ("The one marked {3:1}", 1.0, "Yes = right."),
        ("The one marked ~3", 0.0, "No: that is the old mix."),
        ("The one marked #31", 0.0, ""),
    ]

    paths = questions[1]
    assert paths.text == "The rota lives in C:\\Shop\\Rota.\nIt is updated on Mondays."

    equals = questions[2]
    assert equals.type == "short"
    assert equals.answers == [Answer("=", 1.0, "It is the = sign.")]

    # "\\" is a literal backslash, so the brace after it opens a real answer block.
    backslash = questions[3]
    assert backslash.text == "A literal backslash before a brace \\"
    assert backslash.answers == [Answer("kept", 1.0)]


def test_an_escaped_colon_in_a_title_does_not_end_it():
    question = only_question("::Unit 1\\: Basics::Greet everyone. {T}")

    assert question.title == "Unit 1: Basics"
    assert question.text == "Greet everyone."


def test_unknown_escapes_are_kept_as_written():
    assert only_question("Costs \\$5 \\[sale\\]. {T}").text == "Costs \\$5 \\[sale\\]."


def test_escaped_braces_do_not_open_an_answer_block():
    question = only_question("Use \\{name\\} in the greeting.")

    assert question.type == "description"
    assert question.text == "Use {name} in the greeting."


# ---------------------------------------------------------------------- titles, blanks


def test_title_without_closing_colons_stays_in_the_text():
    question = only_question("::Half a title {T}")

    assert question.title is None
    assert question.text == "Half a title"


def test_question_text_may_start_on_the_line_after_the_title():
    question = only_question("::Kit::\nWhich item goes in the\nfirst-aid kit? {=plasters ~glue}")

    assert question.title == "Kit"
    assert question.text == "Which item goes in the\nfirst-aid kit?"


def test_missing_word_at_the_start_and_middle():
    start = only_question("{=Asia} is the largest continent.")
    middle = only_question("We open at {~8 =9 ~10} every day.")
    end = only_question("Two plus two equals {=four =4}.")

    assert start.text == "_____ is the largest continent."
    assert middle.text == "We open at _____ every day."
    # Moodle splices the blank exactly where the block was.
    assert end.text == "Two plus two equals _____."
    assert (start.missing_word, middle.missing_word, end.missing_word) == (True, True, True)


def test_an_escaped_closing_brace_at_the_end_still_means_missing_word():
    question = only_question("Write {=x} then \\}")

    assert question.missing_word is True
    assert question.text == "Write _____ then }"


def test_general_feedback_is_after_the_last_four_hashes():
    question = only_question("Greet? {=yes ~no ####First #### Second}")

    assert question.general_feedback == "Second"
    # Like Moodle, the earlier "####" stays in the answers and splits at its first "#".
    assert [(a.text, a.feedback) for a in question.answers] == [("yes", ""), ("no", "###First")]


# ---------------------------------------------------------------------------- formats


def test_format_prefixes_and_inheritance():
    greeting, tools, ordinary, note = parse_case("formats.gift").questions

    assert greeting.text == "<p>Which greeting is <b>best</b>?</p>"
    assert greeting.text_format == "html"
    assert [(a.text, a.text_format, a.feedback, a.feedback_format) for a in greeting.answers] == [
        ("<em>Good morning!</em>", "html", "<b>Warm</b> and simple.", "html"),
        ("Yo <there>", "plain", "Too casual.", "html"),
        ("*Next!*", "markdown", "Never say <this>.", "plain"),
    ]
    assert (greeting.general_feedback, greeting.general_feedback_format) == (
        "**Greet** every customer.",
        "markdown",
    )
    assert tools.text_format == "markdown"
    assert [m.left_format for m in tools.matches] == ["plain", "markdown", "markdown"]
    assert tools.matches[0].left == "<till>"
    assert (ordinary.text, ordinary.text_format) == ("Ordinary text.", "moodle")
    assert (note.title, note.text, note.text_format) == (
        "Plain note",
        "A <plain> description.",
        "plain",
    )


def test_true_false_feedback_formats():
    question = only_question("Ready? {TRUE#[html]<b>No</b>#[plain]Yes}")

    assert question.truefalse == TrueFalse(True, "Yes", "<b>No</b>", "plain", "html")


def test_brackets_that_are_not_a_format_name_stay_in_the_text():
    assert only_question("[1, 2] is a list. {T}").text == "[1, 2] is a list."


# --------------------------------------------------------------------------- problems


def test_every_malformed_question_in_the_case_file_is_reported_with_its_line():
    result = parse_case("problems.gift")

    assert [(p.line, p.message) for p in result.problems] == [
        (3, "unclosed '{'"),
        (5, "'}' without an opening '{'"),
        (7, "embedded (Cloze) answers such as {1:MULTICHOICE:…} are not GIFT"),
        (9, "a multiple-choice question needs at least 2 answers"),
        (11, "a matching question needs at least 2 pairs"),
        (13, "empty answer (is there an unescaped = or ~ in a text?)"),
        (13, "a short-answer question needs at least 1 answer"),
        (15, "bad numerical answer 'twelve'; write 5, 5:0.5 or 4..6"),
        (17, "unknown text format [htm]; use [html], [moodle], [plain] or [markdown]"),
        (19, "question has no text"),
        (21, "unclosed '{'"),
        (24, "'}' without an opening '{'"),
        (26, "the weights of the right answers add up to 120%, not 100%"),
        (28, "more than one answer block; write a literal brace as \\{ or \\}"),
        (
            31,
            "put a blank line after the $CATEGORY: line "
            "(Moodle would read the following lines as part of the category name)",
        ),
        (35, "a question can have only one [id:…], found 2"),
    ]
    assert {p.file for p in result.problems} == {"problems.gift"}
    assert [q.text for q in result.questions] == ["A valid question at the end."]


def test_an_empty_category_is_reported_and_keeps_the_previous_one():
    result = parse_gift("$CATEGORY: Refunds\n\n$CATEGORY:\n\nStill refunds? {T}")

    assert result.categories == ["Refunds"]
    assert [(p.line, p.message) for p in result.problems] == [
        (3, "$CATEGORY: needs a category path")
    ]
    assert result.questions[0].category == "Refunds"


def test_problem_prints_as_file_line_message():
    assert str(Problem("quiz.gift", 12, "unclosed '{'")) == "quiz.gift:12: unclosed '{'"


@pytest.mark.parametrize(
    "text, message",
    [
        ("Backwards } then {=a}", "'}' before the opening '{'"),
        ("Nested {=a {=b}}", "more than one answer block"),
        ("Bad weight {~%half%a =b}", "bad answer weight in '%half%a'"),
        ("Heavy {=%150%a =b}", "answer weight 150% is outside -100%..100%"),
        ("Short without full marks {=%50%a =%20%b}", "no answer gives full marks"),
        ("Numerical without full marks {#=%50%3}", "no answer gives full marks"),
        ("Backwards range {#5..1}", "numerical range '5..1' runs from high to low"),
        ("Negative tolerance {#5:-1}", "numerical tolerance in '5:-1' is negative"),
        ("Bad tolerance {#5:a}", "bad numerical answer '5:a'"),
        ("Empty numerical {#}", "a numerical question needs at least 1 answer"),
        ("Junk first {junk ~a =b}", "text before the first ~ or = in the answers: 'junk'"),
        ("Double tilde {=a ~~b}", "empty answer"),
        ("Trailing equals {=a ~b=}", "empty answer"),
        ("Unescaped equals {=2=2 ~3}", "answer '2' appears more than once"),
        ("Arrowless pair {=a -> b =c}", "matching pair without '->': 'c'"),
        ("Empty right {=a -> b =c ->}", "matching pair 'c' has nothing after '->'"),
        ("Duplicate left {=a -> b =a -> c}", "matching item 'a' appears more than once"),
        ("Only a distractor pair {=a -> b = -> c}", "a matching question needs at least 2 pairs"),
        ("Answer format typo {=[htm]a ~b}", "unknown text format [htm]"),
        (
            "Weighted equals {=%50%a =b ~c}",
            "'=' already means 100%; write a weighted answer as ~%50%a",
        ),
        ("Short answer cloze {:SHORTANSWER:=yes}", "embedded (Cloze) answers"),
        ("$CATEGORY:", "$CATEGORY: needs a category path"),
        ("::Only a title::", "question has no text"),
    ],
)
def test_malformed_constructs_become_problems(text, message):
    result = parse_gift(f"// leading comment\n{text}\n", "quiz.gift")

    assert result.questions == []
    assert any(p.message.startswith(message) for p in result.problems), result.problems
    assert {p.line for p in result.problems} == {2}


def test_problem_lines_count_in_later_blocks_and_point_at_the_bad_line():
    text = "First {T}\n\n\n// note\n::Broken::\nSecond line {=a ~b\n\nThird {F}\n"

    assert messages(text) == [(6, "unclosed '{'")]


def test_a_valid_file_with_windows_line_endings_and_bom_parses():
    result = parse_gift("\ufeff::A::One {T}\r\n\r\n::B::Two {F}\r\n")

    assert result.problems == []
    assert [(q.line, q.title, q.text) for q in result.questions] == [
        (1, "A", "One"),
        (3, "B", "Two"),
    ]


def test_empty_and_comment_only_input_gives_nothing():
    assert parse_gift("") == parse_gift("// just a comment\n\n   \n")
    assert parse_gift("").questions == []
    assert parse_gift("").problems == []


# ---------------------------------------------------------------------------- scoring


@pytest.fixture
def quiz():
    questions = {}
    for name in ("customer_care.gift", "truefalse.gift", "numerical.gift"):
        questions |= by_title(parse_case(name))
    return questions


def test_score_single_choice(quiz):
    question = quiz["No receipt"]
    general = "Policy 4.2 allows store credit up to 50 €."

    right = score(question, 0)
    assert (right.fraction, right.correct) == (1.0, True)
    assert right.feedback == ["She keeps shopping with you.", general]
    assert right.feedback_formats == ["moodle", "moodle"]

    half = score(question, 2)
    assert (half.fraction, half.correct) == (0.5, False)
    assert half.feedback == ["Slower, but the refund is approved.", general]

    assert score(question, 1).fraction == 0.0


def test_single_choice_penalty_is_clamped_to_zero():
    question = only_question("Pick. {=a ~%-50%b}")

    assert score(question, 1).fraction == 0.0


@pytest.mark.parametrize("response", [-1, 3, True, "0", None, 1.0, [0]])
def test_single_choice_invalid_responses_score_zero(quiz, response):
    scored = score(quiz["No receipt"], response)

    assert (scored.fraction, scored.correct) == (0.0, False)
    assert scored.feedback[0] == "Choose one of the answers."


@pytest.mark.parametrize(
    "response, fraction",
    [
        ([0, 1], 1.0),
        ([1, 0, 0], 1.0),
        ((0,), 0.5),
        ([0, 3], 0.5),
        ([0, 1, 2], 0.0),
        ([2], 0.0),
        ([], 0.0),
    ],
)
def test_score_multiple_answer_sums_and_clamps(quiz, response, fraction):
    scored = score(quiz["Good habits"], response)

    assert scored.fraction == pytest.approx(fraction)
    assert scored.correct is (fraction == 1.0)


def test_multiple_answer_feedback_for_each_chosen_answer(quiz):
    scored = score(quiz["Good habits"], [2, 0])

    assert scored.feedback == ["People like being recognised.", "This usually makes it worse."]


def test_multiple_answer_thirds_add_up_to_full_marks():
    question = only_question("Three. {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")

    scored = score(question, [0, 1, 2])
    assert (scored.fraction, scored.correct) == (1.0, True)


@pytest.mark.parametrize("response", [[0, 9], [True], "0,1", 0, None])
def test_multiple_answer_invalid_responses_score_zero(quiz, response):
    scored = score(quiz["Good habits"], response)

    assert (scored.fraction, scored.feedback) == (0.0, ["Choose one or more of the answers."])


def test_score_true_false_with_moodle_feedback(quiz):
    true_question = quiz["TF true two"]
    assert score(true_question, True) == score(true_question, True)
    right = score(true_question, True)
    wrong = score(true_question, False)
    assert (right.fraction, right.correct, right.feedback) == (
        1.0,
        True,
        ["Right: they can hear it."],
    )
    assert (wrong.fraction, wrong.correct, wrong.feedback) == (
        0.0,
        False,
        ["Wrong: they can hear it."],
    )

    false_question = quiz["TF general"]
    assert score(false_question, False).feedback == ["Yes, on the right.", "See the uniform guide."]
    assert score(false_question, False).fraction == 1.0
    assert score(false_question, True).feedback == ["No, on the right.", "See the uniform guide."]
    assert score(false_question, True).fraction == 0.0


@pytest.mark.parametrize("response", [1, 0, "true", None])
def test_true_false_needs_a_bool(quiz, response):
    assert score(quiz["TF bare"], response).feedback == ["Choose true or false."]


@pytest.mark.parametrize(
    "response, fraction, feedback",
    [
        ("voucher", 1.0, []),
        ("VOUCHER", 1.0, []),
        ("  Voucher ", 1.0, []),
        ("coupon", 0.5, ["Close: coupons are discounts."]),
        ("vouchers", 0.0, []),
        ("gift card", 0.0, []),
    ],
)
def test_score_short_answer_case_insensitively(quiz, response, fraction, feedback):
    scored = score(quiz["Store credit"], response)

    assert (scored.fraction, scored.feedback) == (fraction, feedback)
    assert scored.correct is (fraction == 1.0)


def test_short_answer_wildcards_and_first_match_wins():
    question = only_question("Animal? {=Frog#Good! =%50%Cat#Cats again. =%0%*#Completely wrong}")

    assert score(question, "frog").feedback == ["Good!"]
    assert score(question, "cat").fraction == 0.5
    assert score(question, "dog").feedback == ["Completely wrong"]
    assert score(question, "dog").fraction == 0.0

    starred = only_question("Pattern? {=re*ipt =a\\*b}")
    assert score(starred, "receipt").fraction == 1.0
    assert score(starred, "reipt").fraction == 1.0
    assert score(starred, "a*b").fraction == 1.0
    assert score(starred, "axb").fraction == 0.0


def test_short_answer_compares_normalised_unicode():
    question = only_question("Café? {=café}")

    assert score(question, "CAFE\u0301").fraction == 1.0


@pytest.mark.parametrize("response", ["", "   ", None, 5, ["voucher"]])
def test_short_answer_invalid_responses_score_zero(quiz, response):
    assert score(quiz["Store credit"], response).feedback == ["Type an answer."]


@pytest.mark.parametrize(
    "title, response, fraction",
    [
        ("Exact", 12, 1.0),
        ("Exact", "12", 1.0),
        ("Exact", " 12.0 ", 1.0),
        ("Exact", 12.5, 0.0),
        ("Tolerance", 145, 1.0),
        ("Tolerance", 155, 1.0),
        ("Tolerance", "155.01", 0.0),
        ("Tolerance", 144.99, 0.0),
        ("Range", 1, 1.0),
        ("Range", 5, 1.0),
        ("Range", "3.7", 1.0),
        ("Range", 0.99, 0.0),
        ("Range", -3, 0.0),
        ("Freezer", -16, 1.0),
        ("Freezer", "-2e1", 1.0),
        ("Freezer", 18, 0.0),
    ],
)
def test_score_numerical_tolerance_and_range(quiz, title, response, fraction):
    assert score(quiz[title], response).fraction == fraction


def test_numerical_several_answers_and_catch_all(quiz):
    question = quiz["Several"]

    assert score(question, 5).feedback == ["Exactly right."]
    assert (score(question, 6.5).fraction, score(question, 6.5).feedback) == (
        0.5,
        ["Close enough."],
    )
    assert (score(question, 9).fraction, score(question, 9).feedback) == (
        0.0,
        ["Check the refund policy."],
    )


def test_numerical_float_rounding_does_not_cost_marks():
    assert score(only_question("Sum? {#0.3}"), 0.1 + 0.2).fraction == 1.0


@pytest.mark.parametrize(
    "response", ["twelve", "", "12 days", "1,5", None, True, math.nan, math.inf, [12]]
)
def test_numerical_non_numbers_score_zero_and_never_raise(quiz, response):
    scored = score(quiz["Exact"], response)

    assert (scored.fraction, scored.correct) == (0.0, False)
    assert scored.feedback[0].endswith("is not a number.")


def test_non_numeric_string_feedback_names_the_response(quiz):
    assert score(quiz["Exact"], "twelve").feedback == ["'twelve' is not a number."]


@pytest.mark.parametrize(
    "response, fraction",
    [
        ({"Refund": "Money back", "Exchange": "Another item", "Credit": "Store voucher"}, 1.0),
        ({"Refund": "Money back", "Exchange": "Store voucher", "Credit": "Another item"}, 1 / 3),
        ({"Refund": "Money back"}, 1 / 3),
        ({"Refund": "money back"}, 0.0),
        ({"Unknown": "Money back"}, 0.0),
        ({}, 0.0),
    ],
)
def test_score_matching(quiz, response, fraction):
    scored = score(quiz["Words"], response)

    assert scored.fraction == pytest.approx(fraction)
    assert scored.correct is (fraction == 1.0)


def test_matching_ignores_distractor_rights_when_scoring():
    question = parse_case("formats.gift").questions[1]

    scored = score(question, {"<till>": "Payments", "Radio": "Calling a colleague"})
    assert scored.fraction == 1.0


def test_matching_needs_a_dict(quiz):
    assert score(quiz["Words"], [("Refund", "Money back")]).feedback == ["Match every item."]


@pytest.mark.parametrize("title", ["Welcome", "Your story"])
def test_description_and_essay_cannot_be_scored(quiz, title):
    with pytest.raises(ValueError, match="cannot be scored automatically"):
        score(quiz[title], "anything")


def test_general_feedback_is_added_for_every_response(quiz):
    scored = score(quiz["No receipt"], 99)

    assert scored.feedback == [
        "Choose one of the answers.",
        "Policy 4.2 allows store credit up to 50 €.",
    ]
    assert scored.feedback_formats == ["plain", "moodle"]


# ------------------------------------------------------------------------ public view


def all_case_questions():
    questions = []
    for path in sorted(CASES.glob("*.gift")):
        result = parse_gift(path.read_text(encoding="utf-8"), path.name)
        questions += [pytest.param(q, id=f"{path.stem}:{q.line}") for q in result.questions]
    return questions


def secrets_of(question: Question):
    """Return texts a learner must not see before answering."""
    secrets = [question.general_feedback]
    secrets += [a.feedback for a in question.answers]
    if question.truefalse:
        secrets += [question.truefalse.feedback_if_true, question.truefalse.feedback_if_false]
    if question.type in ("short", "numerical"):
        secrets += [a.text for a in question.answers]
    return [s for s in secrets if s]


def all_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item)


@pytest.mark.parametrize("question", all_case_questions())
def test_public_view_leaks_no_answer_key(question):
    view = public_view(question)
    dumped = json.dumps(view, ensure_ascii=False)

    assert view["type"] == question.type
    assert view["text"] == question.text
    forbidden = {
        "fraction",
        "fractions",
        "correct",
        "feedback",
        "general_feedback",
        "truefalse",
        "answers",
        "matches",
        "value",
        "tolerance",
        "weight",
        "title",
    }
    assert forbidden.isdisjoint(all_keys(view))
    for secret in secrets_of(question):
        assert secret not in dumped


def test_public_view_of_choices_lists_texts_only(quiz):
    view = public_view(quiz["No receipt"])

    assert view == {
        "type": "mc",
        "text": "A customer has no receipt. You…",
        "text_format": "moodle",
        "missing_word": False,
        "options": [
            {"index": 0, "text": "offer store credit", "format": "moodle"},
            {"index": 1, "text": "refuse politely", "format": "moodle"},
            {"index": 2, "text": "call the duty manager", "format": "moodle"},
        ],
    }


@pytest.mark.parametrize("title", ["Store credit", "Several", "TF true two", "Your story"])
def test_public_view_of_typed_answers_has_no_options(quiz, title):
    assert set(public_view(quiz[title])) == {"type", "text", "text_format", "missing_word"}


def test_public_view_of_matching_shuffles_rights_deterministically(quiz):
    question = quiz["Words"]
    view = public_view(question)

    assert view["left"] == [
        {"text": "Refund", "format": "moodle"},
        {"text": "Exchange", "format": "moodle"},
        {"text": "Credit", "format": "moodle"},
    ]
    assert sorted(view["right"]) == sorted(["Money back", "Another item", "Store voucher"])
    assert view["right"] != ["Money back", "Another item", "Store voucher"]
    reparsed = by_title(parse_case("customer_care.gift"))["Words"]
    assert public_view(reparsed)["right"] == view["right"]


def test_public_view_of_matching_includes_distractors_but_not_empty_lefts():
    view = public_view(parse_case("formats.gift").questions[1])

    assert [item["text"] for item in view["left"]] == ["<till>", "Radio"]
    assert sorted(view["right"]) == ["Calling a colleague", "Cleaning", "Payments"]


def test_public_view_of_matching_never_uses_the_answer_order():
    for size in range(2, 8):
        pairs = " ".join(f"=L{i} -> R{i}" for i in range(size))
        question = only_question(f"Match {size}. {{{pairs}}}")
        assert public_view(question)["right"] != [f"R{i}" for i in range(size)]


def test_public_view_of_matching_lists_a_shared_right_once():
    question = only_question("Match. {=a -> x =b -> x =c -> y}")

    assert sorted(public_view(question)["right"]) == ["x", "y"]


# -------------------------------------------------- outside corpus: gift-pegjs test files
#
# gift-pegjs writes its own JSON schema, not Moodle's. We convert each expected entry into
# the fields we compare, and assert Moodle's behaviour where the two knowingly differ:
#
# * True/false feedback: gift-pegjs maps the first `#` text to trueFeedback and the second to
#   falseFeedback; Moodle shows the first to a learner who answers wrongly and the second to
#   one who answers rightly. So for a TRUE question the two swap (see TFTwoFeedback below).
# * Whitespace: Moodle trims every line and keeps line breaks; gift-pegjs joins some lines
#   with spaces and keeps trailing spaces (markdown.gift). Texts are compared with runs of
#   whitespace collapsed.
# * Missing word: gift-pegjs pads the blank with spaces ("from _____ ."); Moodle splices
#   "_____" exactly where the block was ("from _____."). Spaces around the blank are ignored
#   here; test_missing_word_at_the_start_and_middle pins Moodle's exact text.
# * Numerical: gift-pegjs marks every `=` answer isCorrect even at %0%, and gives a lone
#   answer as a bare number object. The expected fraction is weight/100 when a weight is
#   given, else 1 for isCorrect and 0 otherwise.

PEGJS_TYPES = {
    "mc": "MC",
    "multi": "MC",
    "short": "Short",
    "truefalse": "TF",
    "numerical": "Numerical",
    "essay": "Essay",
    "description": "Description",
    "matching": "Matching",
}


def corpus_files():
    if not CORPUS.is_dir():
        reason = f"outside GIFT corpus not found at {CORPUS}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="corpus-absent")]
    return [pytest.param(path, id=path.stem) for path in sorted(CORPUS.glob("*.gift"))]


def squash(text):
    return re.sub(r"\s*_____\s*", "_____", " ".join((text or "").split()))


def rich_text(rich):
    return squash(rich["text"]) if rich else ""


def expected_fraction(choice):
    if choice["weight"] is not None:
        return choice["weight"] / 100
    return 1.0 if choice["isCorrect"] else 0.0


def number_of(number):
    if number["type"] == "simple":
        return (number["number"], 0)
    if number["type"] == "range":
        return (number["number"], number["range"])
    middle = (number["numberLow"] + number["numberHigh"]) / 2
    return (middle, number["numberHigh"] - middle)


def from_pegjs(entry):
    """Convert one gift-pegjs JSON question into the fields we compare."""
    fields = {
        "type": entry["type"],
        "title": entry["title"],
        "id": entry["id"],
        "tags": entry["tags"] or [],
        "text": rich_text(entry["stem"]),
        "text_format": entry["stem"]["format"],
        "missing_word": entry["hasEmbeddedAnswers"],
        "general_feedback": rich_text(entry.get("globalFeedback")),
    }
    kind = entry["type"]
    if kind in ("MC", "Short"):
        fields["answers"] = [
            (
                rich_text(c["text"]),
                c["text"]["format"],
                expected_fraction(c),
                rich_text(c["feedback"]),
                c["feedback"]["format"] if c["feedback"] else None,
            )
            for c in entry["choices"]
        ]
    elif kind == "TF":
        first, second = rich_text(entry["trueFeedback"]), rich_text(entry["falseFeedback"])
        if entry["isTrue"]:  # Moodle: first is for the wrong answer (false), second for true.
            fields["truefalse"] = (True, second, first)
        else:
            fields["truefalse"] = (False, first, second)
    elif kind == "Numerical":
        choices = entry["choices"]
        if isinstance(choices, dict):
            choices = [{"text": choices, "weight": None, "isCorrect": True, "feedback": None}]
        fields["answers"] = [
            (
                None if "format" in c["text"] else number_of(c["text"]),
                expected_fraction(c),
                rich_text(c["feedback"]),
            )
            for c in choices
        ]
    elif kind == "Matching":
        fields["matches"] = [
            (rich_text(p["subquestion"]), p["subquestion"]["format"], p["subanswer"])
            for p in entry["matchPairs"]
        ]
    return fields


def to_pegjs_fields(question: Question):
    """Pick the same fields from our question."""
    fields = {
        "type": PEGJS_TYPES[question.type],
        "title": question.title,
        "id": question.id,
        "tags": question.tags,
        "text": squash(question.text),
        "text_format": question.text_format,
        "missing_word": question.missing_word,
        "general_feedback": squash(question.general_feedback),
    }
    if question.type in ("mc", "multi", "short"):
        fields["answers"] = [
            (
                squash(a.text),
                a.text_format,
                a.fraction,
                squash(a.feedback),
                a.feedback_format if a.feedback else None,
            )
            for a in question.answers
        ]
    elif question.type == "truefalse":
        tf = question.truefalse
        fields["truefalse"] = (
            tf.correct,
            squash(tf.feedback_if_true),
            squash(tf.feedback_if_false),
        )
    elif question.type == "numerical":
        fields["answers"] = [
            (
                None if a.value is None else (pytest.approx(a.value), pytest.approx(a.tolerance)),
                a.fraction,
                squash(a.feedback),
            )
            for a in question.answers
        ]
    elif question.type == "matching":
        fields["matches"] = [(squash(m.left), m.left_format, m.right) for m in question.matches]
    return fields


@pytest.mark.parametrize("path", corpus_files())
def test_pegjs_corpus_matches_moodle_reading(path):
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    result = parse_gift(path.read_text(encoding="utf-8"), path.name)

    assert result.problems == []
    assert result.categories == [e["title"] for e in expected if e["type"] == "Category"]
    wanted = [from_pegjs(e) for e in expected if e["type"] != "Category"]
    assert [to_pegjs_fields(q) for q in result.questions] == wanted


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"outside GIFT corpus not found at {CORPUS}")
def test_pegjs_corpus_is_complete():
    assert len(list(CORPUS.glob("*.gift"))) == 51


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"outside GIFT corpus not found at {CORPUS}")
def test_pegjs_true_false_feedback_follows_moodle_not_the_json():
    result = parse_gift((CORPUS / "TFTwoFeedback.gift").read_text(encoding="utf-8"))
    first, second, third = (q.truefalse for q in result.questions)

    # {FALSE#feedback for true #feedback for false}: both readings agree.
    assert first == TrueFalse(False, "feedback for true", "feedback for false")
    # {TRUE#feedback for true}: the JSON says trueFeedback; Moodle shows it for answering false.
    assert second == TrueFalse(True, feedback_if_true="", feedback_if_false="feedback for true")
    # {TRUE# #feedback for false}: Moodle shows the second text for answering true.
    assert third == TrueFalse(True, feedback_if_true="feedback for false", feedback_if_false="")
