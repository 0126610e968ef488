import sys

from kenkyu.cli import main

sys.exit(main())
