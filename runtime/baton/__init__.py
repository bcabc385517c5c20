"""Baton: a Kubernetes-native API orchestration runtime for the Serverless Workflow DSL 1.0."""

__all__ = ["__version__"]

__version__ = "0.1.0"
