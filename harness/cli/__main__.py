"""`python -m harness.cli`: the console script `harness`."""

import sys

from harness.cli import main

sys.exit(main())
