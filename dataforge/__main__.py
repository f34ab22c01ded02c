"""`python -m dataforge` runs the command line, as the `dataforge` script does."""

import sys

from dataforge.cli import main

sys.exit(main())
