"""Offline reasoning: item summaries, review aspects, personas, user profiles and alignment."""
