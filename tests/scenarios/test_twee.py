import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.scenarios.twee import Link, parse_links, parse_twee, unescape

# The outside corpus lives next to the repository: <repo>/../shared/corpora/twee/extwee/.
REPO = Path(__file__).resolve().parents[2]
CORPORA = REPO.parent / "shared" / "corpora"
EXTWEE = CORPORA / "twee" / "extwee"


# --- Links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "label", "target"),
    [
        ("[[Offer store credit]]", "Offer store credit", "Offer store credit"),
        ("[[Offer store credit->Credit]]", "Offer store credit", "Credit"),
        ("[[Credit<-Offer store credit]]", "Offer store credit", "Credit"),
        ("[[Offer store credit|Credit]]", "Offer store credit", "Credit"),
        ("[[a->b->c]]", "a->b", "c"),
        ("[[c<-b<-a]]", "b<-a", "c"),
        ("[[a|b|c]]", "a|b", "c"),
        # "->" wins over "<-" and "|".
        ("[[x<-y->z]]", "x<-y", "z"),
        ("[[a|b->c]]", "a|b", "c"),
        # An empty target falls through to the next rule.
        ("[[Go->]]", "Go->", "Go->"),
        ("[[Go->|Stay]]", "Go", "|Stay"),
        ("[[Stay|Go->]]", "Stay", "Go->"),
        ("[[<-Back]]", "<-Back", "<-Back"),
        ("[[Next|]]", "Next|", "Next|"),
        ("[[->Only target]]", "", "Only target"),
    ],
)
def test_link_label_and_target(source, label, target):
    assert parse_links(source) == [Link(label, target)]


def test_setter_is_split_off_and_kept():
    links = parse_links("[[Call back][$called to true]] [[Offer a taxi->Taxi][trust+2 cost+40]]")
    assert links == [
        Link("Call back", "Call back", "$called to true"),
        Link("Offer a taxi", "Taxi", "trust+2 cost+40"),
    ]


def test_setter_text_after_first_separator_is_all_setter():
    assert parse_links("[[Go->Room][a][b]]") == [Link("Go", "Room", "a][b")]


def test_first_closing_brackets_end_the_link():
    assert parse_links("[[One]]]] and [[Two]]") == [Link("One", "One"), Link("Two", "Two")]


def test_links_do_not_cross_lines():
    assert parse_links("[[Half\nway]] [[Whole]]") == [Link("Whole", "Whole")]


def test_empty_links_are_dropped():
    assert parse_links("[[]] [[][setter]] text") == []


def test_external_links_are_excluded():
    text = "[[Policy->https://example.com/policy]] [[file:///tmp/x]] [[Shop->Shop]]"
    assert parse_links(text) == [Link("Shop", "Shop")]


def test_a_colon_in_a_passage_name_is_not_a_url():
    assert parse_links("[[Note: urgent]]") == [Link("Note: urgent", "Note: urgent")]


def test_identical_links_are_merged_but_different_labels_stay():
    text = "[[Credit]] [[Credit]] [[Offer->Credit]] [[Offer->Credit][trust+1]]"
    assert parse_links(text) == [
        Link("Credit", "Credit"),
        Link("Offer", "Credit"),
        Link("Offer", "Credit", "trust+1"),
    ]


def test_links_report_their_line_within_the_text():
    links = parse_links("Intro\n\n[[A]]\ntext [[B]]")
    assert [(link.target, link.line) for link in links] == [("A", 3), ("B", 4)]


# --- Passages ---------------------------------------------------------------------------


def test_header_escapes_decode_in_names_and_tags():
    story = parse_twee(r":: \[Hello\] \{world\} \\ back\slash [tag\]x a\\b]" + "\nBody\n")
    passage = story.passages[0]
    assert passage.name == "[Hello] {world} \\ backslash"
    assert passage.tags == ["tag]x", "a\\b"]


def test_unescape_drops_the_backslash_before_any_character():
    assert unescape(r"\q\\\[") == "q\\["


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        (":: Start", []),
        (":: Start []", []),
        (":: Start [one]", ["one"]),
        (":: Start [one  two three]", ["one", "two", "three"]),
        (":: Start[script]", ["script"]),
        ("::Start   [a b]   ", ["a", "b"]),
    ],
)
def test_tag_blocks(header, tags):
    passage = parse_twee(header + "\nText").passages[0]
    assert (passage.name, passage.tags) == ("Start", tags)


def test_metadata_block_is_decoded():
    story = parse_twee(':: Counter [decision] {"position":"100,100","size":"100,200"}\nText')
    passage = story.passages[0]
    assert passage.tags == ["decision"]
    assert passage.metadata == {"position": "100,100", "size": "100,200"}
    assert not [w for w in story.warnings if "metadata" in w.message]


def test_metadata_without_tags():
    passage = parse_twee(':: Counter {"position":"1,2"}\nText').passages[0]
    assert (passage.name, passage.tags, passage.metadata) == ("Counter", [], {"position": "1,2"})


def test_bad_metadata_warns_and_keeps_the_passage():
    story = parse_twee(':: First\nOne\n\n:: Start {"position}\nSome content', "bad.twee")
    passage = story.passages[1]
    assert (passage.name, passage.metadata, passage.text) == ("Start", None, "Some content")
    warning = next(w for w in story.warnings if "metadata" in w.message)
    assert str(warning).startswith("bad.twee:4: could not decode the metadata of 'Start'")
    assert story.errors == []


def test_unterminated_tag_block_warns():
    story = parse_twee(":: Start [one two\nText")
    assert story.passages[0].tags == ["one", "two"]
    assert any("unterminated tag block" in w.message for w in story.warnings)


def test_trailing_blank_lines_are_dropped_and_inner_ones_kept():
    story = parse_twee(":: A\nline one\n\nline two\n\n  \n\n:: B\nx")
    assert story.passages[0].text == "line one\n\nline two"


def test_text_before_the_first_header_is_ignored():
    story = parse_twee("notes\n  :: indented is not a header\n:: Start\nHello")
    assert [p.name for p in story.passages] == ["Start"]
    assert story.passages[0].line == 3


def test_only_lines_starting_with_the_mark_are_headers():
    story = parse_twee(":: Start\n \\:: not a header\n\\:: Also not\nA :: B")
    assert len(story.passages) == 1
    assert story.passages[0].text == " \\:: not a header\n:: Also not\nA :: B"


def test_crlf_and_bom_are_handled():
    story = parse_twee("\ufeff:: StoryTitle\r\nShop floor\r\n\r\n:: Start\r\nHi\r\n")
    assert story.title == "Shop floor"
    assert story.passages[1].text == "Hi"


def test_story_title_data_and_start():
    story = parse_twee(
        ":: StoryTitle\nRefund without a receipt\n\n"
        ':: StoryData\n{"ifid": "5A379C73-582A-4293-BE31-B3F153595582", "start": "Counter"}\n\n'
        ":: Counter\nText\n"
    )
    assert story.title == "Refund without a receipt"
    assert story.ifid == "5A379C73-582A-4293-BE31-B3F153595582"
    assert story.start == "Counter"
    assert story.warnings == []


def test_start_passage_is_the_default_start():
    assert parse_twee(":: Start\nHi").start == "Start"
    assert parse_twee(":: Begin\nHi").start is None


def test_bad_story_data_warns_and_continues():
    story = parse_twee(':: StoryData\n{\n  "ifid": oops\n}\n\n:: Start\nHi', "s.twee")
    assert story.data is None
    assert [p.name for p in story.passages] == ["StoryData", "Start"]
    decode = next(w for w in story.warnings if "StoryData" in w.message)
    assert decode.line == 3


def test_missing_ifid_warns_only():
    story = parse_twee(':: StoryData\n{"start": "Start"}\n\n:: Start\nHi')
    assert story.errors == []
    assert [w.message for w in story.warnings] == ['no IFID: StoryData should hold an "ifid"']


def test_duplicate_passage_names_are_errors():
    story = parse_twee(":: Start\nA\n\n:: Other\nB\n\n:: Start\nC", "dup.twee")
    assert len(story.passages) == 3
    assert [str(e) for e in story.errors] == [
        "dup.twee:7: duplicate passage name 'Start' (first at line 1)"
    ]


def test_header_without_a_name_is_an_error():
    story = parse_twee(":: [tag]\nText")
    assert [e.message for e in story.errors] == ["passage header has no name"]


def test_empty_input_is_an_empty_story_with_a_warning():
    story = parse_twee("", "empty.twee")
    assert story.passages == [] and story.errors == []
    assert [w.message for w in story.warnings] == ["no passages found"]


TWEE_ISH = st.text(alphabet=st.sampled_from(list(':[]{}\\|<->\n "ab1/')), max_size=200)


@settings(database=None)
@given(TWEE_ISH)
def test_parser_never_fails_and_every_header_line_is_a_passage(text):
    story = parse_twee(text)
    assert len(story.passages) == sum(line.startswith("::") for line in text.split("\n"))


@settings(database=None)
@given(TWEE_ISH)
def test_links_always_have_an_internal_target(text):
    for link in parse_links(text):
        assert link.target
        assert "://" not in link.target or not link.target.split("://")[0].isalnum()


# --- Outside corpus: videlais/extwee test files ----------------------------------------


def readme_header_counts() -> dict[str, int]:
    """Read the "Headers" column of the Twee table in the corpora README."""
    counts = {}
    for row in (CORPORA / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[1].isdigit():
            for name in re.findall(r"`([^`]+\.twee)`", cells[0]):
                counts[name] = int(cells[1])
    return counts


def corpus_files() -> list:
    if not EXTWEE.is_dir():
        reason = f"outside Twee corpus not found at {EXTWEE}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="corpus-absent")]
    return [pytest.param(path, id=path.name) for path in sorted(EXTWEE.glob("*.twee"))]


def parse_corpus_file(path: Path):
    return parse_twee(path.read_text(encoding="utf-8"), path.name)


# Files that must warn, and about what; every other corpus file must parse without warnings.
CORPUS_WARNINGS = {
    "CLI__files__output__test.twee": ["no passages found"],
    "Roundtrip__Files__example1.twee": ["could not decode StoryData", "no IFID"],
    "Roundtrip__Files__example4.twee": ["no IFID"],
    "Twee__TweeParser__emptytags.twee": ["no IFID"],
    "Twee__TweeParser__missing.twee": ["no IFID"],
    "Twee__TweeParser__noTitle.twee": ["no IFID"],
    "Twee__TweeParser__pasagemetadataerror.twee": ["could not decode the metadata", "no IFID"],
    "Twee__TweeParser__storydataerror.twee": ["could not decode StoryData", "no IFID"],
}


@pytest.mark.parametrize("path", corpus_files())
def test_corpus_passage_count_matches_readme(path):
    story = parse_corpus_file(path)
    assert len(story.passages) == readme_header_counts()[path.name]
    assert story.errors == []


@pytest.mark.parametrize("path", corpus_files())
def test_corpus_warnings_only_where_malformed(path):
    story = parse_corpus_file(path)
    expected = CORPUS_WARNINGS.get(path.name, [])
    assert len(story.warnings) == len(expected), [str(w) for w in story.warnings]
    for fragment, warning in zip(expected, story.warnings, strict=True):
        assert fragment in warning.message
        assert str(warning).startswith(f"{path.name}:")


def test_corpus_readme_lists_every_file():
    if not EXTWEE.is_dir():
        pytest.skip(f"outside Twee corpus not found at {EXTWEE}")
    assert set(readme_header_counts()) == {path.name for path in EXTWEE.glob("*.twee")}


@pytest.fixture
def corpus():
    if not EXTWEE.is_dir():
        pytest.skip(f"outside Twee corpus not found at {EXTWEE}")
    return lambda name: parse_twee((EXTWEE / name).read_text(encoding="utf-8"), name)


def tags_of(story, name):
    return story.passage(name).tags


def test_corpus_full_story_data_and_tags(corpus):
    story = corpus("CLI__files__example6.twee")
    assert story.data["zoom"] == 0.25
    assert story.data["tag-colors"] == {"bar": "green", "foo": "red", "qaz": "blue"}
    assert story.title == "twineExample"
    start = story.passage("Start")
    assert start.tags == ["tag", "tags"]
    assert start.metadata == {"position": "200,200", "size": "100,100"}
    assert tags_of(story, "Style1") == ["stylesheet"]


@pytest.mark.parametrize("name", ["CLI__files__test.twee", "CLI__files__tweeExample.twee"])
def test_corpus_start_names_another_passage(corpus, name):
    story = corpus(name)
    assert story.title == "Title"
    assert story.start == "Untitled"
    assert story.passage("Untitled").text == "Some stuff"


def test_corpus_serialisation_bug_lands_in_story_data(corpus):
    story = corpus("Roundtrip__Files__example1.twee")
    assert story.data is None
    assert story.title is None
    assert story.passages[0].text.endswith("[object Object][object Object]")


def test_corpus_tags_without_space_and_empty_passages(corpus):
    story = corpus("Roundtrip__Files__example2.twee")
    assert (story.passages[2].name, story.passages[2].tags) == ("UserScript", ["script"])
    assert story.passage("UserStylesheet").text == ""
    assert parse_links(story.passage("Start").text) == [Link("Another passage", "Another passage")]


def test_corpus_scripts_and_stylesheets_without_story_data(corpus):
    story = corpus("Roundtrip__Files__example4.twee")
    assert story.data is None and story.ifid is None
    assert [p.name for p in story.passages if "script" in p.tags] == ["user", "user2"]
    assert [p.name for p in story.passages if "stylesheet" in p.tags] == ["style1", "style2"]


def test_corpus_empty_tag_block(corpus):
    assert tags_of(corpus("Twee__TweeParser__emptytags.twee"), "Start") == []


def test_corpus_escaped_header(corpus):
    story = corpus("Twee__TweeParser__escape.twee")
    name = "[Hello] {world} \\\\"  # two backslashes
    passage = story.passage(name)
    assert passage is not None
    assert story.start == name
    assert passage.metadata == {"position": "400,200", "size": "100,100"}
    assert passage.text == ":: Extra header"
    assert story.title == "Cursed"


def test_corpus_metadata_and_camel_case_story_data(corpus):
    story = corpus("Twee__TweeParser__example.twee")
    assert story.title == "twineExample"
    assert story.passage("StoryAuthor").text == "Dan"
    assert story.passages[-1].name == "StoryData"
    assert story.data["formatVersion"] == "2.1.0"
    assert story.passage("Start").metadata == {"position": "102,104", "size": "100,100"}
    assert [link.target for link in parse_links(story.passage("Start").text)] == [
        "Another passage",
        "A third passage",
    ]


def test_corpus_unlinked_start(corpus):
    story = corpus("Twee__TweeParser__missing.twee")
    assert parse_links(story.passage("Start").text) == []
    assert story.start == "Start"


@pytest.mark.parametrize(
    ("name", "tag", "passages"),
    [
        ("Twee__TweeParser__multipleScriptPassages.twee", "script", ["UserScript", "UserScript2"]),
        (
            "Twee__TweeParser__multipleStyleTag.twee",
            "stylesheet",
            ["UserStylesheet1", "UserStylesheet2"],
        ),
        ("Twee__TweeParser__scriptPassage.twee", "script", ["UserScript"]),
        ("Twee__TweeParser__stylePassage.twee", "stylesheet", ["UserStylesheet"]),
        ("Twee__TweeParser__test.twee", "script", ["Script1", "Script2"]),
        ("Twee__TweeParser__test.twee", "stylesheet", ["Style1", "Style2"]),
    ],
)
def test_corpus_special_tags_in_order(corpus, name, tag, passages):
    story = corpus(name)
    found = [p for p in story.passages if tag in p.tags]
    assert [p.name for p in found] == passages
    assert all(p.tags == [tag] for p in found)


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("Twee__TweeParser__multipletags.twee", ["tag", "tags"]),
        ("Twee__TweeParser__singletag.twee", ["tag"]),
        ("Twine2HTML__Twine2HTMLCompiler__example6.twee", ["tag", "tags"]),
    ],
)
def test_corpus_tag_counts(corpus, name, tags):
    assert tags_of(corpus(name), "Start") == tags


def test_corpus_story_data_with_only_an_ifid(corpus):
    story = corpus("Twee__TweeParser__multipletags.twee")
    assert story.data == {"ifid": "2B68ECD6-348F-4CF5-96F8-549A512A8128"}


def test_corpus_no_title(corpus):
    story = corpus("Twee__TweeParser__noTitle.twee")
    assert story.title is None
    assert story.passage("Start").text == "Nothing else"


def test_corpus_notes_before_first_header(corpus):
    story = corpus("Twee__TweeParser__notes.twee")
    assert story.title == "twineExample"
    assert story.passages[0].name == "StoryTitle"
    assert story.passages[0].line == 4


def test_corpus_bad_passage_metadata(corpus):
    story = corpus("Twee__TweeParser__pasagemetadataerror.twee")
    start = story.passage("Start")
    assert (start.metadata, start.text) == (None, "Some content")


def test_corpus_story_data_with_leading_space(corpus):
    story = corpus("Twee__TweeParser__startMetadata.twee")
    assert story.start == "Untitled Passage"
    assert story.passage("Untitled Passage").metadata == {"position": "100,99", "size": "100,100"}


def test_corpus_bad_story_data_keeps_the_passages(corpus):
    story = corpus("Twee__TweeParser__storydataerror.twee")
    assert story.data is None
    assert story.title == "twineExample"
    assert [p.name for p in story.passages if p.tags] == ["Script1", "Script2", "Style1", "Style2"]


def test_corpus_story_data_without_final_newline(corpus):
    story = corpus("Twine2HTML__Twine2HTMLCompiler__example6.twee")
    assert story.ifid == "2B68ECD6-348F-4CF5-96F8-549A512A8128"
    assert story.data["zoom"] == "1"


def test_corpus_linked_story(corpus):
    story = corpus("Twine2HTML__Twine2HTMLCompiler__missingStoryTitle.twee")
    assert story.title == "twineExample"
    targets = {link.target for passage in story.passages for link in parse_links(passage.text)}
    assert targets <= {passage.name for passage in story.passages}
