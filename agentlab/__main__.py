"""`python -m agentlab` is the `agentlab` command."""

import sys

from agentlab.cli.main import main

sys.exit(main())
