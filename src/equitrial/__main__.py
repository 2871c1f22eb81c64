"""``python -m equitrial`` runs the command-line interface."""

from equitrial.cli import main

main()
