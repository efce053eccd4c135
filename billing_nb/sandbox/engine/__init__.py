"""The sandbox's billing engine: periods and renewals, invoices, discounts, prorations,
and the rendering of stored objects."""
