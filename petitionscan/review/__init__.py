"""Review in the browser: volunteers check and correct the uncertain rows.

A small local web application over the campaign database. ``create_app``
builds it for one database and one run's secret token; ``serve`` runs it on
127.0.0.1 until interrupted. Queries live in :mod:`.queries`, crop scaling in
:mod:`.images`, where rows lie on the scanned page in :mod:`.pages`, the
safety rules in :mod:`.app`.
"""

from petitionscan.review.app import create_app
from petitionscan.review.server import ReviewServer, serve

__all__ = ["ReviewServer", "create_app", "serve"]
