"""The streaming reply engine: shows a model's answer in Discord while it is being written."""
