"""Following news feeds: parsing, fetching, the feed tables and the poller (docs/FEEDS.md)."""
