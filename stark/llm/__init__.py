"""OpenAI-compatible chat clients with retries, accounting and a response cache."""
