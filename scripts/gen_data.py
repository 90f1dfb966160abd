#!/usr/bin/env python
"""Load sample orders: `python scripts/gen_data.py --help`. The logic is dashboard/gen_data.py
(also `python manage.py gen_data`); this file only makes it runnable from a checkout."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.gen_data import main

if __name__ == "__main__":
    sys.exit(main())
