"""One module per source format; each turns its files into canonical (uncleaned) review and item frames."""
