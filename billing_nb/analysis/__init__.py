"""Pure analysis of a snapshot: identify, anomalies, classify, the contract shape (periods and
Stripe's own figures) and the product gaps. Nothing here reads or writes Stripe."""
