"""Reading Stripe: lookup parsing, the Stripe reader (the only code that reads Stripe), the
request waves of a snapshot, :class:`CaseSnapshot` and :class:`AccountSnapshot`, typed rows,
and the masking applied to everything at the door."""
