"""The real test plane: Kubernetes, Jaeger, helm and kubectl built from registries (README.md)."""
