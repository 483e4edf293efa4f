"""Data: loaders for real review datasets into one canonical schema, cleaning, k-core and splitting."""
