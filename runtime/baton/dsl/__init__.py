"""Phase 1-2: load Serverless Workflow documents into typed models and validate them."""
