"""The classifier's fast features are scikit-learn's features, number for number, on text it was not tuned on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from continuum.nlp import features
from continuum.nlp.classifier import KindModel
from continuum.nlp.examples import shipped_held_out
from continuum.nlp.features import FastFeatures, counter_for
from continuum.nlp.model import kind_model

# What a tokenizer gets wrong first: nothing, only spaces, non-breaking and wide spaces, tabs and newlines,
# one-letter words (shorter than every n), capitals and accents, emoji, words no example ever held.
AWKWARD = ["", "   ", "a", "I", "é", "ok ok ok ok", "Ünïcödé ÇAPITALS and ß", "tab\tsep\nnew\u00a0nbsp\u2003wide",
           "🙂🙂 emoji-only 👍", "zzyzx qwertyuiop xylophonic", "?!?! !!!", "x " * 400,
           "l'été dernier, c'était mieux", "日本語のテキストです"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> KindModel:
    return kind_model(Path(tmp_path_factory.mktemp("model")) / "kind.joblib")


def _texts() -> list[str]:
    return [e.text for e in shipped_held_out()] + AWKWARD


def test_the_fast_union_gives_scikit_learns_matrix(model: KindModel) -> None:
    prepare, union = model.pipeline.steps[0][1], model.pipeline.steps[1][1]
    prepared = prepare.transform(_texts())
    fast = FastFeatures.of(union)
    assert fast is not None, "the shipped model's features should take the fast path"
    expected, found = union.transform(prepared).tocsr(), fast.transform(prepared)
    assert found.shape == expected.shape and found.nnz == expected.nnz
    assert abs(found - expected).max() == 0.0


@pytest.mark.parametrize("name", ["words", "chars"])
def test_each_vectorizer_counts_as_scikit_learn_does(model: KindModel, name: str) -> None:
    vectorizer = dict(model.pipeline.steps[1][1].transformer_list)[name]
    counter = counter_for(vectorizer)
    assert counter is not None
    from sklearn.feature_extraction.text import CountVectorizer

    texts = model.pipeline.steps[0][1].transform(_texts())
    expected = CountVectorizer.transform(vectorizer, texts)  # the counts, before the TF-IDF weights
    found = counter.matrix(texts)
    assert found.nnz == expected.nnz and abs(found - expected).max() == 0.0


def test_predictions_are_unchanged_and_the_word_cache_stays_bounded(model: KindModel, monkeypatch) -> None:
    texts = _texts()
    expected = model.pipeline.predict_proba(texts)
    monkeypatch.setattr(features, "_WORD_CACHE_LIMIT", 50)  # cleared again and again on the way
    fresh = KindModel(pipeline=model.pipeline, labels=model.labels, built_from=model.built_from,
                      examples=model.examples)
    for start in range(0, len(texts), 37):
        batch = texts[start:start + 37]
        assert np.array_equal(fresh.probabilities(batch), expected[start:start + 37])
    assert isinstance(fresh.fast_features, FastFeatures)
    (chars,) = [c for _t, c in fresh.fast_features._parts if isinstance(c, features.CharWordCounts)]
    last_batch_words = {w for t in texts[len(texts) - len(texts) % 37 or -37:] for w in t.lower().split()}
    assert 0 < len(chars._words) <= 50 + len(last_batch_words)
    assert [p.kind for p in fresh.predict(texts)] == [model.labels[int(r.argmax())] for r in expected]


def test_a_vectorizer_of_other_settings_takes_scikit_learns_path() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["one two three", "two three four"]
    assert counter_for(TfidfVectorizer(analyzer="char").fit(texts)) is None  # n-grams across words
    assert counter_for(TfidfVectorizer(stop_words=["two"]).fit(texts)) is None
    assert counter_for(TfidfVectorizer(binary=True).fit(texts)) is None
    assert counter_for(TfidfVectorizer()) is None  # not fitted
    assert counter_for(TfidfVectorizer(analyzer="char_wb").fit(texts)) is not None


def test_a_model_saved_by_joblib_still_loads_and_a_new_one_loads_the_same(model: KindModel, tmp_path: Path) -> None:
    import joblib

    from continuum.nlp.classifier import MODEL_FORMAT

    texts = _texts()[:40]
    old = tmp_path / "old.joblib"
    joblib.dump({"format": MODEL_FORMAT, "pipeline": model.pipeline, "labels": model.labels,
                 "built_from": model.built_from, "examples": model.examples}, old)
    model.save(tmp_path / "new.joblib")
    assert (tmp_path / "new.joblib").read_bytes().startswith(b"continuum kind model")
    for path in (old, tmp_path / "new.joblib"):
        loaded = KindModel.load(path)
        assert (loaded.labels, loaded.built_from) == (model.labels, model.built_from)
        assert np.array_equal(loaded.probabilities(texts), model.probabilities(texts))
    joblib.dump({"format": MODEL_FORMAT + 1}, tmp_path / "future.joblib")
    with pytest.raises(ValueError, match="not a Continuum kind model"):
        KindModel.load(tmp_path / "future.joblib")


def test_the_hub_rewrites_an_earlier_models_file_once_in_the_faster_container(model: KindModel,
                                                                              tmp_path: Path) -> None:
    import joblib

    from continuum.nlp.classifier import MODEL_FORMAT

    path = tmp_path / "models" / "kind.joblib"
    path.parent.mkdir()
    joblib.dump({"format": MODEL_FORMAT, "pipeline": model.pipeline, "labels": model.labels,
                 "built_from": model.built_from, "examples": model.examples}, path)
    assert KindModel.saved_by_joblib(path)
    loaded = kind_model(path)
    assert not KindModel.saved_by_joblib(path) and loaded.built_from == model.built_from
