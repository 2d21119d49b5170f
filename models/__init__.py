from . import (
    account_move,
    account_tax,
    demo,
    kkm_receipt,
    kkm_receipt_attempt,
    kkm_receipt_queue,
    kkm_receipt_sending,
    receipt_builder,
    res_company,
    res_config_settings,
)
