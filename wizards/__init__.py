from . import kkm_correction_wizard, kkm_renew_wizard, kkm_report_wizard, kkm_resell_wizard, kkm_resend_wizard
