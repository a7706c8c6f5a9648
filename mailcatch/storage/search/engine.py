"""What was imported from here before the search package was split; import from mailcatch.storage.search instead.

Kept only while web/mailhog.py and storage/interface.py still import these names from here.
"""

from mailcatch.storage.search.compile import Compiled, compile_terms
from mailcatch.storage.search.query import Term
from mailcatch.storage.search.searcher import SearchResult

__all__ = ["Compiled", "SearchResult", "Term", "compile_terms"]
