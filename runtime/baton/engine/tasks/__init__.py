"""One module per task kind; ``base`` holds what every task does around its own work."""

__all__: list[str] = []  # each task kind is its own module; the engine's surface is baton.engine
