"""The life cycle of photo content: which moves exist, and that every other is refused."""

from __future__ import annotations

import pytest

from glint.media import lifecycle
from glint.media.lifecycle import IllegalTransition, MediaStatus

ALLOWED = {
    (MediaStatus.PROCESSING, MediaStatus.PUBLISHED),
    (MediaStatus.PROCESSING, MediaStatus.FAILED),
    (MediaStatus.FAILED, MediaStatus.PROCESSING),
}


@pytest.mark.parametrize("current", list(MediaStatus))
@pytest.mark.parametrize("target", list(MediaStatus))
def test_only_the_declared_moves_are_allowed(current: MediaStatus, target: MediaStatus) -> None:
    if (current, target) in ALLOWED:
        lifecycle.check(current, target)
        assert current in lifecycle.sources(target)
    else:
        with pytest.raises(IllegalTransition) as refused:
            lifecycle.check(current, target)
        assert refused.value.status == 409
        assert current not in lifecycle.sources(target)


def test_published_is_final() -> None:
    assert lifecycle.TRANSITIONS[MediaStatus.PUBLISHED] == frozenset()
