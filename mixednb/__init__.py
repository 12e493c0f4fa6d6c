__version__ = "0.0.1"

# nbdev writes only the docstring and __version__; the imports below load every
# chapter in reading order, so that the @patch methods of later chapters exist.
from .data import dataset, datasets
