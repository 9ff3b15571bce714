"""Reports as documents people keep: an incident's report as a self-contained HTML page and as a PDF (reportlab)."""
