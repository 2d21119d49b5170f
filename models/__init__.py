from . import (
    account_move,
    account_tax,
    demo,
    kkm_receipt,
    kkm_receipt_attempt,
    receipt_builder,
    res_company,
    res_config_settings,
)
