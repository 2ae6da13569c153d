"""The classifier's features at prediction time, computed faster than scikit-learn does and exactly the same.

scikit-learn's text vectorizers build every n-gram of every message in
Python and look each one up, which made the character n-grams the largest
cost of triage (about 125 µs a message, more than the rules and the store
together).  Two facts make it cheaper without changing a single number:

* ``char_wb`` n-grams never cross a word boundary, so a message's counts are
  the sum of its words' counts, and words repeat (Zipf): each distinct word's
  in-vocabulary n-gram counts are worked out once and kept.
* the word n-grams need only the tokens and the vocabulary, looked up with
  one ``dict.get`` each instead of the generic per-feature path.

The counts then go through the fitted model's own TF-IDF step and the same
stacking as ``FeatureUnion``, so the matrix equals scikit-learn's
(``tests/brain/test_fast_features.py`` checks it on held-out text) and a
pipeline of any other shape simply takes scikit-learn's path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# Enough for the vocabulary of a large community; cleared, not grown, beyond it, so memory stays flat.
_WORD_CACHE_LIMIT = 50_000

Counts = dict[int, int]


class CharWordCounts:
    """``char_wb`` n-gram counts of one fitted vectorizer, kept per distinct word."""

    def __init__(self, vectorizer: Any) -> None:
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._low, self._high = vectorizer.ngram_range
        self._preprocess: Callable[[str], str] = vectorizer.build_preprocessor()
        self._width = len(vectorizer.vocabulary_)
        self._dtype = vectorizer.dtype
        self._words: dict[str, tuple[Any, Any]] = {}  # word → (n-gram indices, counts), as arrays

    def _word(self, word: str) -> tuple[Any, Any]:
        import numpy as np

        # The same n-grams, in the same way, as scikit-learn's ``_char_wb_ngrams`` for one word.
        padded = f" {word} "
        length = len(padded)
        counts: Counts = {}
        vocabulary = self._vocabulary
        for n in range(self._low, self._high + 1):
            offset = 0
            while True:
                index = vocabulary.get(padded[offset:offset + n])
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
                if offset + n >= length:
                    break
                offset += 1
            if offset == 0:  # a word shorter than n is counted once, as scikit-learn does
                break
        return np.fromiter(counts, dtype=np.int32, count=len(counts)), \
            np.fromiter(counts.values(), dtype=self._dtype, count=len(counts))

    def matrix(self, documents: Sequence[str]) -> Any:
        """Documents × n-grams counts: (documents × words) times (words × n-grams), the product in C."""
        import numpy as np
        from scipy import sparse

        if len(self._words) >= _WORD_CACHE_LIMIT:
            self._words.clear()
        column: dict[str, int] = {}  # this batch's distinct words, in order of first use
        rows: list[int] = []
        columns: list[int] = []
        for row, document in enumerate(documents):
            for word in self._preprocess(document).split():
                rows.append(row)
                columns.append(column.setdefault(word, len(column)))
        words = self._words
        grams = [words.get(word) or words.setdefault(word, self._word(word)) for word in column]
        lengths = np.fromiter((len(g[0]) for g in grams), dtype=np.int64, count=len(grams))
        pointers = np.zeros(len(grams) + 1, dtype=np.int64)
        np.cumsum(lengths, out=pointers[1:])
        empty = np.zeros(0, dtype=np.int32)
        by_word = sparse.csr_matrix(
            (np.concatenate([g[1] for g in grams]) if grams else empty.astype(self._dtype),
             np.concatenate([g[0] for g in grams]) if grams else empty, pointers),
            shape=(len(grams), self._width))
        in_documents = sparse.csr_matrix(
            (np.ones(len(rows), dtype=self._dtype), (np.asarray(rows, dtype=np.int32),
                                                     np.asarray(columns, dtype=np.int32))),
            shape=(len(documents), len(grams)))
        product = (in_documents @ by_word).tocsr()
        product.eliminate_zeros()
        product.sort_indices()
        return product


class WordNgramCounts:
    """Word n-gram counts of one fitted ``analyzer="word"`` vectorizer without stop words."""

    def __init__(self, vectorizer: Any) -> None:
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._low, self._high = vectorizer.ngram_range
        self._preprocess: Callable[[str], str] = vectorizer.build_preprocessor()
        self._tokenize: Callable[[str], list[str]] = vectorizer.build_tokenizer()
        self._width = len(vectorizer.vocabulary_)
        self._dtype = vectorizer.dtype

    def counts(self, document: str) -> Counts:
        tokens = self._tokenize(self._preprocess(document))
        found: Counts = {}
        vocabulary = self._vocabulary
        for n in range(self._low, min(self._high, len(tokens)) + 1):
            for start in range(len(tokens) - n + 1):
                gram = tokens[start] if n == 1 else " ".join(tokens[start:start + n])
                index = vocabulary.get(gram)
                if index is not None:
                    found[index] = found.get(index, 0) + 1
        return found

    def matrix(self, documents: Sequence[str]) -> Any:
        """Documents × n-grams counts, as scikit-learn's ``CountVectorizer.transform`` gives them."""
        import numpy as np
        from scipy import sparse

        indices: list[int] = []
        values: list[int] = []
        pointers = [0]
        for document in documents:
            found = self.counts(document)
            indices.extend(found)
            values.extend(found.values())
            pointers.append(len(indices))
        matrix = sparse.csr_matrix(
            (np.asarray(values, dtype=self._dtype), np.asarray(indices, dtype=np.int32),
             np.asarray(pointers, dtype=np.int32)), shape=(len(documents), self._width))
        matrix.sort_indices()
        return matrix


def counter_for(vectorizer: Any) -> CharWordCounts | WordNgramCounts | None:
    """The fast counter that reproduces ``vectorizer`` exactly, or None where its settings are not ours."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(vectorizer) is not TfidfVectorizer or vectorizer.binary or vectorizer.input != "content" \
            or vectorizer.decode_error != "strict" or not hasattr(vectorizer, "vocabulary_"):
        return None
    if vectorizer.analyzer == "char_wb":
        return CharWordCounts(vectorizer)
    if vectorizer.analyzer == "word" and vectorizer.stop_words is None and vectorizer.tokenizer is None:
        return WordNgramCounts(vectorizer)
    return None


class FastFeatures:
    """A fitted ``FeatureUnion``'s ``transform``, with its text vectorizers counted by the classes above."""

    def __init__(self, union: Any) -> None:
        self._parts = [(transformer, counter_for(transformer)) for _name, transformer in union.transformer_list]

    @classmethod
    def of(cls, union: Any) -> FastFeatures | None:
        from sklearn.pipeline import FeatureUnion

        plain = type(union) is FeatureUnion and not union.transformer_weights \
            and all(t not in ("drop", "passthrough") for _n, t in union.transformer_list)
        fast = cls(union) if plain else None
        return fast if fast is not None and any(c is not None for _t, c in fast._parts) else None

    def transform(self, documents: Sequence[str]) -> Any:
        from scipy import sparse

        blocks = []
        for transformer, counter in self._parts:
            if counter is None:
                blocks.append(transformer.transform(documents))
            else:
                blocks.append(transformer._tfidf.transform(counter.matrix(documents), copy=False))
        return sparse.hstack(blocks).tocsr()
