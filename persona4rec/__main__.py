"""`python -m persona4rec ...`, the same as the `persona4rec` script."""

import sys

from .cli import main

sys.exit(main())
