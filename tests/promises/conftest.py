from tests.e2e.conftest import loop  # noqa: F401  (the same simulators-plus-store fixture)
