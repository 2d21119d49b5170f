# The builder: its definition and dispatch table first, then the stages and the checks it uses.
# isort: skip_file
from . import builder
from . import stages, checks, marking
