"""Unit tests are pure: no sockets, no AWS, no AdvancedMD. Anything that needs a network peer
belongs in tests/integration."""

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=False)
    yield
    enable_socket()
