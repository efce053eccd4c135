"""The record of a case: the :class:`Case` facade, the papermill runner and its kernels,
handoff rendering, the PII scanner and the casebook."""
