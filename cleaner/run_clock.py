"""The moment a run happens, the one clock every stage reads.

SOURCE_DATE_EPOCH (the reproducible-builds convention) pins it, so a run repeated later, on any
day, writes the same bytes: the records' `added` and the latest date a page may carry both come
from here.
"""

from __future__ import annotations

import datetime as dt
import os


def run_moment() -> dt.datetime:
    """SOURCE_DATE_EPOCH when set, else now; in UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
