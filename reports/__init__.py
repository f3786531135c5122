"""Reports for the People's Committee and on the IOC's own work, made from the platform's data.

Definitions are documents (``definitions/*.yaml``); a generated report keeps a snapshot of its
figures and the SHA-256 of its file so that it can be verified later.
"""
