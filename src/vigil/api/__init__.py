"""HTTP API and web page (FastAPI). Depends only on what the runtime injects (:class:`ApiDeps`)."""
