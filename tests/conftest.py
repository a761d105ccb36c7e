"""Shared test setup. The extractor_fixtures plugin (pyproject entry point), enabled by
`extractor_fixtures = "replay"` in pyproject's pytest options, puts every test in replay mode
with the network shut; pytester lets plugin tests run pytest."""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for every test marked `ray` (num_cpus=2, no dashboard); its GCS address.

    Started on first use and shut down when the session ends, so Ray's few seconds of
    start-up are paid once. CLI tests join it with `--address`.
    """
    ray = pytest.importorskip("ray")
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()
