"""`python -m glint` runs the CLI."""

from glint.cli import main

main()
