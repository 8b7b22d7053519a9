"""`python -m agentlab` is the `agentlab` command."""

import sys

from agentlab.cli import main

sys.exit(main())
