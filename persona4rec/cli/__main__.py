"""`python -m persona4rec.cli ...`, the same as the `persona4rec` script."""

import sys

from . import main

sys.exit(main())
