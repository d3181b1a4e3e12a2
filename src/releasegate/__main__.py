"""``python -m releasegate``."""

from releasegate.cli import main

main()
