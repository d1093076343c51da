"""datagen: Korean function-calling dialogue data studio (generate → batch → check → review → publish).

Every page action of the Streamlit app is also a CLI step: ``python -m datagen.<step> --help``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("datagen")
    """The installed distribution's version (``pyproject.toml``, ``[project] version``)."""
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
