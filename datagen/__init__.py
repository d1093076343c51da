"""datagen: Korean function-calling dialogue data studio (generate → batch → check → review → publish).

Every page action of the Streamlit app is also a CLI step: ``python -m datagen.<step> --help``.
"""

__version__ = "0.1.0"
