"""The Baton operator: reconciles Workflow and Policy resources into runtime deployments.

The public surface is small: ``render`` and the decisions are plain functions (tested without
a cluster); ``main`` runs the Kopf handlers over them under a leader Lease.
"""

from baton_operator.config import OperatorConfig
from baton_operator.render import Owner, Rendering, render

__all__ = ["OperatorConfig", "Owner", "Rendering", "render"]
