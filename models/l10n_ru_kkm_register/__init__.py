# The cash register model: its definition first, then what it decides (routing) and what it
# shows (health). docs/architecture.rst, "Cash registers".
# isort: skip_file
from . import register
from . import routing, health, pace
