"""The one exception type that users see."""


class MhasymError(ValueError):
    """A user mistake: bad sizes, shapes, ids or options. The message is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
