"""The Baton operator: reconciles Workflow and Policy resources into runtime deployments."""

__all__: list[str] = []
