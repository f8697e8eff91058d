"""StudyBuddy: the core (configuration, storage, chains, streaming engine and services)."""
