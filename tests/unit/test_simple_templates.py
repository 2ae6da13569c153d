"""Inbound templates rendered without Jinja give Jinja's string, whatever the payload holds."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from continuum.mapping import simple_templates
from continuum.mapping.render import _compiled
from continuum.mapping.templates import ENVIRONMENT

NAMES = st.sampled_from(["record", "system", "continuum", "slug", "id", "items", "keys", "_private", "range",
                         "a", "b"])
LEAVES = st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 10**12), st.booleans(),
                   st.floats(allow_nan=False, width=32), st.lists(st.integers(), max_size=2))
VALUES = st.recursive(LEAVES, lambda inner: st.dictionaries(NAMES, inner, max_size=4), max_leaves=12)
LITERALS = st.text(alphabet=st.sampled_from("ab/- _:é{}%#\n"), max_size=6)
TEMPLATES = st.builds(lambda pieces, tail: "".join(f"{lit}{{{{ {'.'.join(path)} }}}}" for lit, path in pieces) + tail,
                      st.lists(st.tuples(LITERALS, st.lists(NAMES, min_size=1, max_size=4)), max_size=3), LITERALS)


def _jinja(source: str, context: dict[str, Any]) -> str | None:
    try:
        return _compiled(ENVIRONMENT, source).render(**context)
    except Exception:  # a template Jinja refuses is not one the fast path may render
        return None


@settings(max_examples=600, deadline=None)
@given(TEMPLATES, st.dictionaries(NAMES, VALUES, max_size=4))
def test_whatever_the_fast_path_renders_jinja_renders_the_same(source: str, context: dict[str, Any]) -> None:
    fast = simple_templates.render(source, context)
    if fast is not simple_templates.FALLBACK:
        assert fast == _jinja(source, context), (source, context)


def test_the_shipped_shape_takes_the_fast_path_and_the_rest_falls_back() -> None:
    context = {"record": {"continuum": {"category_slug": "bugs"}, "id": 7}}
    assert simple_templates.render("discourse/{{ record.continuum.category_slug }}", context) == "discourse/bugs"
    assert simple_templates.render("#{{ record.id }}", context) == "#7"
    assert simple_templates.render("{{ record.missing.deeper }}x", context) == "x"
    for other in ("{{ record.id | string }}", "{% if record %}y{% endif %}", "{{ record.items }}",
                  "{{ range }}", "{{ record['id'] }}"):
        assert simple_templates.render(other, context) is simple_templates.FALLBACK, other
