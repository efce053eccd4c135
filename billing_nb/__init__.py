"""billing-nb: notebook-based investigation of customer billing cases on Stripe."""
