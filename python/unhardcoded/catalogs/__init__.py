"""The bundled catalog (`default.json`) and the script that rebuilds it (`build_default.py`)."""
