"""Phase 3-4: compile validated documents into executable graphs and run them."""
