"""The demo: the ``billing-nb demo`` command, its cast and stories, and the demo-account
seeder (public SDK calls only, so it also fills a real Stripe test account)."""
