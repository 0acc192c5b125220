import pytest

from tests.fakes import World, build_world


@pytest.fixture
def world() -> World:
    return build_world()
