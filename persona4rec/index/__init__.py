"""The persona-profiled index: every persona embedded once (FAISS), each vector mapped to its item;
max-over-personas scoring of candidate sets, and full-catalogue retrieval."""
