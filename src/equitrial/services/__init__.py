"""Use cases: one function per action, called by the CLI, the web app and the demo."""
