from . import kkm_report_wizard, kkm_resell_wizard, kkm_resend_wizard
