"""``python -m engine.cli``: the ``restyle`` command."""
import sys

from .main import main

sys.exit(main())
