"""Search: Mailpit's query syntax, compiled to SQL, run and counted over the search index.

query       the query syntax: a string as terms, with sizes, dates and time zones
compile     terms as SQL over the messages and the full-text index
vocabulary  look-ups in the vocabularies of words and senders
counts      counting matches and the unread among them, through the cheapest index
kept        recent searches' counts, valid while the store changes nothing but adds
searcher    Searcher: a page of matches with their counts, matching IDs, `latest` by query
index       the search index and the thread that keeps it up to date
"""

from mailcatch.storage.search.compile import Compiled, compile_terms
from mailcatch.storage.search.query import Term, parse_query, zone_named
from mailcatch.storage.search.searcher import Searcher, SearchResult, StoreState

__all__ = ["Compiled", "SearchResult", "Searcher", "StoreState", "Term", "compile_terms", "parse_query", "zone_named"]
