"""Storage adapters: the catalog database (the only place SQL lives) and the segment file layout."""
