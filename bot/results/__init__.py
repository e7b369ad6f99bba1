"""How posts went: the question 48 hours after a post (dispatch.py), its buttons (view.py)
and the answers (service.py)."""
