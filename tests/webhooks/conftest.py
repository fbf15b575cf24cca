import pytest

from . import receiver as receiver_module


@pytest.fixture
def receiver(settings):
    """A local receiver, and the operator settings that let events reach it (plain http, 127.0.0.1)."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    started = receiver_module.start()
    yield started
    started.server.shutdown()
    started.server.server_close()
