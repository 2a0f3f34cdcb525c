"""Every channel an actor acts through (PRODUCT.md Rule 13) is one the history API may answer
and one the portal's change log names."""

from __future__ import annotations

from typing import get_args

from abonnement.core.actor import Channel
from abonnement.history.rows import CHANNELS
from abonnement.history.schemas import ChannelName


def test_the_api_and_the_portal_know_every_channel() -> None:
    values = [channel.value for channel in Channel]
    assert list(get_args(ChannelName)) == values
    assert list(CHANNELS) == values
