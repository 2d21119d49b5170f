# The receipt model: its definition first (the other files extend it), then its life phase by
# phase (docs/architecture.rst, "The receipt's life").
# isort: skip_file
from . import receipt
from . import creation, sending, polling, follow_ups, attention, actions, report
from . import customer_copy, failover
