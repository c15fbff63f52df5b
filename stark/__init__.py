"""Agents, LLM clients, prompts and the command line."""
