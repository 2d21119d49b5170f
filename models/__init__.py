from . import res_company
from . import account_tax
from . import kkm_receipt
from . import kkm_receipt_attempt
from . import receipt_builder
from . import account_move
from . import res_config_settings
