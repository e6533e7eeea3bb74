"""The repository the plugin tests act in (the webhook fixtures' own)."""

ORG, REPO = "Codertocat", "Hello-World"
