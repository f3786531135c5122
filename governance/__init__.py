"""Who may do what, and the record of it: accounts, the access policy, the audit log, edits and
imports awaiting approval, and the field survey that submits them."""
