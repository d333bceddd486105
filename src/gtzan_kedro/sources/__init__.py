"""Where raw clips and their labels come from: one registered function per source.

Importing this package registers every source module listed below, in the order errors
list them (``ingestion.source``).
"""

# isort: off
from gtzan_kedro.sources import generator, local, gtzan, fma  # noqa: F401 - registers them

# isort: on
from gtzan_kedro.sources.registry import SOURCES, Collection, Source, get_source, source

__all__ = ["SOURCES", "Collection", "Source", "get_source", "source"]
