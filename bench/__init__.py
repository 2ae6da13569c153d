"""Benchmarks printing JSON lines: ``python -m bench [--full]`` (see ``bench/__main__.py``)."""
