"""summarizer: Indonesian news -> faithful English translations and source-grounded key-fact summaries."""

__version__ = "0.1.0"
