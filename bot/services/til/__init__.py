"""TIL posts: the model, posting and finding them, streaks, exports, and what the LLM makes of them."""
