"""`python -m agentlab.grading grade ...` / `python -m agentlab.grading student ...`."""

import sys

from agentlab.grading.cli import main

sys.exit(main())
