"""Bounds on text searches. Each word of a search becomes its own `LIKE` condition joined by
OR, and SQLite refuses an expression tree deeper than 1000 and a LIKE pattern over 50,000
bytes; a query of thousands of words (or one huge word) made the database fail with a 5xx.
Routes refuse longer input with a 422; the tools answer the model with an error it can read."""

from collections.abc import Iterable

# Longest search query (POST /v1/messages/search, conversation_search): a search is a few
# words, and this keeps every pattern far below the databases' limits.
MAX_SEARCH_QUERY_CHARS = 1000
# At most this many distinct words of a query are searched (repeats are merged first): each
# is one OR'ed LIKE condition, and 64 is far below SQLite's expression depth of 1000.
MAX_SEARCH_WORDS = 64
# Longest "part of the name" filter (agents' `query_text`, `contains` in /v1/agents/search).
MAX_NAME_FILTER_CHARS = 1000


def distinct_words(words: Iterable[str]) -> list[str]:
    """The words to search: repeats merged (case folded, as the search ignores case), first
    ones first, at most MAX_SEARCH_WORDS, each cut to MAX_SEARCH_QUERY_CHARS. The store's
    last guard: the routes and tools have already refused longer input."""
    merged = dict.fromkeys(w.lower()[:MAX_SEARCH_QUERY_CHARS] for w in words if w)
    return list(merged)[:MAX_SEARCH_WORDS]
