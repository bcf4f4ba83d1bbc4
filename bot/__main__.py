"""`python -m bot`: the same as the `baclofen-companion` console script."""

import sys

from bot.cli import main

sys.exit(main())
