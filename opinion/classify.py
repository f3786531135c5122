"""Sector, tone and urgency of a post: three linear models (scikit-learn) over one TF-IDF of the
post's words and folded syllables, trained on the training part of the shipped labelled set in a
few seconds, at the first use or by ``ioc opinion train``. Retrained models with the operators'
corrections are versioned in the database (``opinion.learning``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from opinion.corpus import Post, read_labelled
from opinion.text import features

SECTORS = ("health", "education", "transport", "environment", "public_order", "social_welfare",
           "other")
TONES = ("negative", "neutral", "positive")
TASKS = ("sector", "tone", "urgent")
HELD_OUT = 0.2


@dataclass(frozen=True)
class Label:
    """What the models say of one post."""

    sector: str
    tone: str
    urgent: bool


class Model:
    """The vectoriser and one classifier per task."""

    def __init__(self, posts: list[Post]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.vectoriser = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2), min_df=2,
                                          sublinear_tf=True)
        x = self.vectoriser.fit_transform([features(p.text) for p in posts])
        self.models: dict[str, Any] = {}
        for task in TASKS:
            self.models[task] = LinearSVC(C=0.5, class_weight="balanced", random_state=0).fit(
                x, [_target(p, task) for p in posts])

    def predict(self, texts: list[str]) -> list[Label]:
        """The labels of ``texts``."""
        if not texts:
            return []
        x = self.vectoriser.transform([features(t) for t in texts])
        cols = {task: self.models[task].predict(x) for task in TASKS}
        return [Label(str(s), str(t), u == "1")
                for s, t, u in zip(cols["sector"], cols["tone"], cols["urgent"], strict=True)]


def _target(post: Post, task: str) -> str:
    return str(int(post.urgent)) if task == "urgent" else getattr(post, task)


def split(posts: list[Post], by_phrase: bool = False) -> tuple[list[Post], list[Post]]:
    """(training, held-out) parts, always the same: a stratified fifth of the posts, or (by
    phrase) every post of the phrases 1, 5 and 9 of each sector, so that the held-out posts say
    things in words the models never saw."""
    if by_phrase:
        unseen = [p.phrase.endswith(("/1", "/5", "/9")) for p in posts]
        return ([p for p, u in zip(posts, unseen, strict=True) if not u],
                [p for p, u in zip(posts, unseen, strict=True) if u])
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(posts, test_size=HELD_OUT, random_state=19,
                                   stratify=[f"{p.sector}/{p.tone}" for p in posts])
    return list(train), list(test)


def measure(model: Model, test: list[Post]) -> dict[str, dict[str, float]]:
    """Macro precision, recall and F1 of each task of ``model`` on ``test`` (urgency: of
    "urgent")."""
    from sklearn.metrics import f1_score, precision_score, recall_score

    predicted = model.predict([p.text for p in test])
    report: dict[str, dict[str, float]] = {}
    for task in TASKS:
        truth = [_target(p, task) for p in test]
        got = [("1" if lab.urgent else "0") if task == "urgent" else getattr(lab, task)
               for lab in predicted]
        kind: dict[str, Any] = ({"average": "binary", "pos_label": "1"} if task == "urgent"
                                else {"average": "macro"})
        report[task] = {"precision": round(float(precision_score(truth, got, zero_division=0,
                                                                 **kind)), 3),
                        "recall": round(float(recall_score(truth, got, zero_division=0,
                                                           **kind)), 3),
                        "f1": round(float(f1_score(truth, got, zero_division=0, **kind)), 4),
                        "n": len(test)}
    return report


def evaluate(posts: list[Post] | None = None, by_phrase: bool = False
             ) -> dict[str, dict[str, float]]:
    """Macro precision and recall of each task on the held-out part (urgency: of "urgent")."""
    train, test = split(posts or read_labelled(), by_phrase)
    report = measure(Model(train), test)
    report["_sizes"] = {"train": len(train), "held_out": len(test)}
    return report


_model: Model | None = None
_lock = threading.Lock()


def model() -> Model:
    """The shipped model: trained on the training part of the shipped set, so that its figures
    on the held-out part are comparable with a retrained one's (trained once per process)."""
    global _model
    with _lock:
        if _model is None:
            _model = Model(split(read_labelled())[0])
        return _model


def classify(texts: list[str]) -> list[Label]:
    """The labels of ``texts`` by the shipped model."""
    return model().predict(texts)
