import sys

from bertnli.cli import main

sys.exit(main())
