from . import callback, portal
