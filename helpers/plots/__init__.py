"""The course's figure code: plot style and Chinese fonts (``plotting``), forecasts, embeddings,
and the static frames that stand in for live widgets in the book."""
