"""The one exception a reply that yields no child raises: the model's mistake, shown to it, never a crash."""


class EditError(ValueError):
    pass
