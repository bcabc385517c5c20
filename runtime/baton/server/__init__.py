"""The runtime HTTP server: serves Workflow manifests as endpoints."""
