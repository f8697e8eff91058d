"""Discord adapters: each cog parses an interaction, calls a service and renders the reply."""
