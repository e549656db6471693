import sys

from ganlab.cli.main import main

sys.exit(main())
