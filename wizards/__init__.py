from . import kkm_report_wizard
