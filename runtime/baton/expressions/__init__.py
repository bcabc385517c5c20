"""Runtime expressions (jq), compiled once at load."""
