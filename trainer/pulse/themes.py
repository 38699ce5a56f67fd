"""Comment themes: TF-IDF and NMF over one released group's comments, on this server only.

Pure (no Flask, no database), and the only module that loads scikit-learn. The scheduler's
close job imports it (through `trainer.pulse.analyses`, inside a function); a web worker never
does (tests/insights/test_web_imports.py). No text leaves the process.

The result is deterministic for a given list of comments and seed: the comments are sorted
before fitting (so the order rows come back in does not matter), NMF starts from NNDSVD with a
fixed `random_state`, and ties are broken by the terms.

Language: answers carry no language and a cycle stores none, so a group's comments are
treated as one language. The stop words of every shipped language (English, German, Spanish)
are removed together, which is harmless for a comment in any one of them.
"""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

MIN_COMMENTS = 10  # a group's comments before any theme is looked for (and shown)
MAX_THEMES = 6
TOP_TERMS = 4

GERMAN_STOP_WORDS = set(
    "aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei "
    "bin bis bist da damit dann das dass dein dem den denn der des dich die dies diese diesem "
    "diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines er es etwas "
    "euch euer für gegen gibt habe haben hat hatte hier hin hinter ich ihm ihn ihnen ihr ihre im "
    "in ist ja jede jedem jeden jeder jetzt kann kein keine können man manche mehr mein meine "
    "mich mir mit muss müssen nach nicht nichts noch nur ob oder ohne schon sehr sein seine "
    "sich sie sind so solche soll sollte sondern sonst über um und uns unser unsere unter viel "
    "vom von vor war waren warum was weil welche wenn wer werden wie wieder will wir wird wo "
    "wollen würde zu zum zur zwar zwischen immer einfach".split()
)
SPANISH_STOP_WORDS = set(
    "al algo algunos ante antes como con contra cual cuando de del desde donde durante el ella "
    "ellas ellos en entre era es esa ese eso esta estaba estamos estar este esto estos fue ha "
    "hay la las le les lo los mas me mi mis mucho muy más nada ni no nos nosotros o os otra "
    "otro para pero poco por porque que quien se sea ser si sido sin sobre son su sus también "
    "tan te tenemos tener tiene todo todos tu tus un una uno unos ya yo él siempre cada".split()
)
# scikit-learn's English list also drops words that carry meaning at work; keep those.
FILLER_WORDS = set(  # fillers and the stubs "don't" and the like leave behind
    "just really lot lots don doesn didn isn aren wasn weren won couldn shouldn wouldn haven "
    "hasn hadn can cannot need needs get gets got make makes bit".split()
)
KEPT_WORDS = set(
    "system call part parts move back front full show top give put find found empty amount "
    "bottom interest detail describe fill side fire bill".split()
)
STOP_WORDS = sorted(
    (ENGLISH_STOP_WORDS - KEPT_WORDS) | FILLER_WORDS | GERMAN_STOP_WORDS | SPANISH_STOP_WORDS
)
WORD_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"  # words of three letters or more, no numbers

# Word beginnings that tie a theme to the question bank's themes (trainer.pulse.models.THEMES),
# in the shipped languages. A theme maps to the bank theme its top terms match most.
BANK_TERMS = {
    "empowerment": (
        "permission",
        "approv",
        "allowed",
        "decid",
        "decision",
        "judgement",
        "refund",
        "goodwill",
        "trust",
        "erlaub",
        "genehmig",
        "entscheid",
        "permiso",
        "aprob",
        "decidir",
        "reembols",
    ),
    "tools_time": (
        "tool",
        "system",
        "screen",
        "computer",
        "software",
        "equipment",
        "phone",
        "booking",
        "login",
        "log",
        "parts",
        "stock",
        "cover",
        "queue",
        "time",
        "staff",
        "rota",
        "werkzeug",
        "zeit",
        "personal",
        "herramient",
        "sistema",
        "tiempo",
        "equipo",
        "pantalla",
    ),
    "recognition": (
        "recogni",
        "praise",
        "thank",
        "valued",
        "appreciat",
        "credit",
        "reward",
        "anerkenn",
        "lob",
        "dank",
        "wertsch",
        "reconoc",
        "agradec",
        "valor",
    ),
    "manager_action": (
        "manager",
        "listen",
        "feedback",
        "ideas",
        "raised",
        "survey",
        "action",
        "boss",
        "vorgesetzt",
        "führung",
        "chef",
        "umfrage",
        "jefe",
        "gerente",
        "encuesta",
    ),
    "pride": ("proud", "pride", "quality", "stolz", "qualität", "orgullo", "calidad"),
    "customer_focus": (
        "customer",
        "client",
        "service",
        "complain",
        "kunde",
        "kundin",
        "cliente",
        "servicio",
    ),
    "wellbeing": (
        "workload",
        "stress",
        "tired",
        "overtime",
        "shift",
        "break",
        "heavy",
        "busy",
        "burn",
        "sick",
        "belastung",
        "überstund",
        "schicht",
        "pause",
        "müde",
        "carga",
        "estrés",
        "turno",
        "cansad",
        "descanso",
    ),
}


@dataclass(frozen=True)
class Theme:
    terms: tuple[str, ...]  # the top terms, strongest first
    bank_theme: str  # a key of trainer.pulse.models.THEMES, or "" when none matches
    comments: int  # comments whose strongest theme this is
    of_comments: int  # comments in the group

    @property
    def share(self) -> float:
        return self.comments / self.of_comments


def theme_count(comments: int) -> int:
    """Return how many themes to look for in a group's comments."""
    return max(3, min(MAX_THEMES, comments // 8))


def bank_theme(terms: Sequence[str]) -> str:
    """Return the bank theme whose word beginnings the terms match most (earlier terms count
    more), or "" when none matches."""
    scores = {}
    for key, stems in BANK_TERMS.items():
        score = sum(1 / (rank + 1) for rank, term in enumerate(terms) if term.startswith(stems))
        if score:
            scores[key] = score
    return max(sorted(scores), key=scores.get) if scores else ""


def find_themes(comments: Sequence[str], *, seed: int) -> list[Theme]:
    """Group comments into themes named by their top terms, largest theme first.

    Returns [] for fewer than MIN_COMMENTS comments or when no word recurs. Each comment
    counts towards its strongest theme; comments that share no recurring word with any theme
    count towards none, so the shares may add up to less than 1.
    """
    texts = sorted(c.strip() for c in comments if c and c.strip())
    if len(texts) < MIN_COMMENTS:
        return []
    vectorizer = TfidfVectorizer(
        stop_words=STOP_WORDS,
        token_pattern=WORD_PATTERN,
        min_df=2,  # a word in one comment only never names a theme
        max_df=0.9,
        sublinear_tf=True,
        lowercase=True,
    )
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no word recurs in two comments
        return []
    terms = vectorizer.get_feature_names_out()
    distinct = len({row.tobytes() for row in matrix.toarray().round(9)})
    k = min(theme_count(len(texts)), matrix.shape[1], distinct)
    if k < 1:
        return []
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = NMF(n_components=k, init="nndsvd", random_state=seed, max_iter=500)
        weights = model.fit_transform(matrix)
    strongest = np.where(weights.max(axis=1) > 1e-9, weights.argmax(axis=1), -1)
    themes = []
    for topic, loadings in enumerate(model.components_):
        count = int((strongest == topic).sum())
        if count == 0:
            continue
        order = sorted(range(len(terms)), key=lambda i: (-round(loadings[i], 12), terms[i]))
        top = tuple(str(terms[i]) for i in order[:TOP_TERMS] if loadings[i] > 1e-9)
        themes.append(Theme(top, bank_theme(top), count, len(texts)))
    return sorted(themes, key=lambda t: (-t.comments, t.terms))
