"""A stand-in that counts the calls of the function it replaces (and can forbid them)."""


class Spy:
    """Counts calls of a function it replaces; ``fail=True`` makes each call an error."""

    def __init__(self, monkeypatch, owner, name: str, fail: bool = False):
        self.calls, self.fail, self.real = 0, fail, getattr(owner, name)
        monkeypatch.setattr(owner, name, self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.fail:
            raise AssertionError("this step must not run")
        return self.real(*args, **kwargs)
