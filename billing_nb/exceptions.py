"""One exception tree for the whole toolkit.

Every error a user can meet is a ``BillingNbError``; the CLI maps the branches to
exit codes (2 bad input, 3 Stripe error, 4 needs confirmation, 5 PII in clear)::

    BillingNbError
    ├── BadInputError                 exit 2: the analyst's input is wrong
    │   ├── LookupNotFoundError       no customer for that email / id / metadata
    │   ├── MalformedIdError          not a Stripe id of an accepted kind
    │   ├── AmbiguousLookupError      the lookup names several people
    │   └── UnknownBucketError        a bucket name outside the Bucket enum
    ├── ConfigError                   exit 2: missing key, live key without --live
    │   └── LiveModeRefusedError
    ├── StripeApiError                exit 3: Stripe said no (keeps request id)
    │   ├── StripeNotFoundError
    │   ├── StripeInvalidRequestError
    │   ├── StripeRateLimitError
    │   └── StripeUnavailableError    network / 5xx / outage
    ├── ActionError                   exit 2 unless a subclass says otherwise
    │   ├── UnknownActionError        approval of an action that is not in the plan
    │   ├── ActionRefusedError        a guard refused (unclear bucket, disputed charge...)
    │   ├── RefundTooLargeError       above what remains refundable
    │   └── StaleTargetError          the target changed since the snapshot
    ├── NeedsConfirmationError        exit 4: nothing executes without approval
    ├── RecordError                   exit 2: a record folder exists / is unreadable
    │   └── CorruptFileError          a case.json / ledger / batch file that cannot be parsed
    ├── StorageError                  exit 3: the disk failed a write or a read (path + cause)
    ├── NotebookRunError              exit 3: a cell failed or timed out (cell index, ename)
    └── RedactionError                exit 5: a saved artifact shows PII or a secret in clear
"""

from __future__ import annotations

__all__ = [
    "BillingNbError",
    "BadInputError",
    "LookupNotFoundError",
    "MalformedIdError",
    "AmbiguousLookupError",
    "UnknownBucketError",
    "ConfigError",
    "LiveModeRefusedError",
    "StripeApiError",
    "StripeNotFoundError",
    "StripeInvalidRequestError",
    "StripeRateLimitError",
    "StripeUnavailableError",
    "ActionError",
    "UnknownActionError",
    "ActionRefusedError",
    "RefundTooLargeError",
    "StaleTargetError",
    "NeedsConfirmationError",
    "RecordError",
    "NotebookRunError",
    "RedactionError",
    "StorageError",
    "CorruptFileError",
]


class BillingNbError(Exception):
    """Base of every error the toolkit raises on purpose."""

    exit_code: int = 1


class BadInputError(BillingNbError):
    """The analyst's input cannot be used as given."""

    exit_code = 2


class LookupNotFoundError(BadInputError):
    """No customer matches the lookup."""


class MalformedIdError(BadInputError):
    """The lookup looks like an id but is not one of an accepted kind."""


class AmbiguousLookupError(BadInputError):
    """The lookup matches customers that are not clearly one person."""


class UnknownBucketError(BadInputError):
    """A bucket name outside the classification buckets."""


class ConfigError(BillingNbError):
    """The environment is not set up for what was asked."""

    exit_code = 2


class LiveModeRefusedError(ConfigError):
    """A live key was given for a write without the explicit live flag."""


class StripeApiError(BillingNbError):
    """Stripe (or the sandbox) refused or failed a request."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        request_id: str | None = None,
        code: str | None = None,
        http_status: int | None = None,
        param: str | None = None,
    ) -> None:
        self.request_id = request_id
        self.code = code
        self.http_status = http_status
        self.param = param
        suffix = f" (request {request_id})" if request_id else ""
        super().__init__(f"{message}{suffix}")


class StripeNotFoundError(StripeApiError):
    """A Stripe object does not exist (404 resource_missing)."""


class StripeInvalidRequestError(StripeApiError):
    """Stripe rejected the parameters (400)."""


class StripeRateLimitError(StripeApiError):
    """Too many requests, even after the SDK's retries (429)."""


class StripeUnavailableError(StripeApiError):
    """Stripe could not be reached or answered 5xx after retries."""


class ActionError(BillingNbError):
    """An action cannot be planned or executed."""

    exit_code = 2


class UnknownActionError(ActionError):
    """An approval names an action id that is not in the plan."""


class ActionRefusedError(ActionError):
    """A guard refused the action; the message says why."""


class RefundTooLargeError(ActionRefusedError):
    """The refund is above what remains refundable on the charge."""


class StaleTargetError(ActionRefusedError):
    """The action's target changed since the snapshot was taken."""


class NeedsConfirmationError(BillingNbError):
    """A money-moving action was requested without an explicit approval."""

    exit_code = 4


class RecordError(BillingNbError):
    """A case record cannot be written (it exists) or read."""

    exit_code = 2


class NotebookRunError(BillingNbError):
    """The case notebook failed or timed out; the record keeps the error cell."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        cell_index: int | None = None,
        ename: str | None = None,
        record: str | None = None,
    ) -> None:
        self.cell_index = cell_index
        self.ename = ename
        self.record = record
        super().__init__(message)


class RedactionError(BillingNbError):
    """A saved artifact holds PII or a secret in clear: a code of its own, since nothing about
    Stripe failed and the fix is in what was rendered, not in a retry."""

    exit_code = 5


class StorageError(BillingNbError):
    """A record or ledger file could not be written or read: full disk, file size limit,
    read-only folder, a path through a file. Names path and cause."""

    exit_code = 3

    @staticmethod
    def of(path: object, err: BaseException) -> BillingNbError:
        """One clear line for a failed file or SQLite operation: ``<path>: <cause>``
        (a damaged file's content is a :class:`CorruptFileError`, exit 2)."""
        return _storage_error(path, err)


_ERRNO_WORDS = {
    "ENOSPC": "no space left on the device",
    "EFBIG": "file too large (the file size limit, ulimit -f, was reached)",
    "ENOTDIR": "a part of the path is a file, not a folder",
    "EROFS": "the file system is read-only",
    "EACCES": "permission denied",
    "EPERM": "operation not permitted",
    "EISDIR": "it is a folder, not a file",
    "EDQUOT": "disk quota exceeded",
}


class CorruptFileError(RecordError):
    """A record, ledger or input file whose content cannot be parsed (exit 2: bad input)."""


def _storage_error(path: object, err: BaseException) -> BillingNbError:
    """One clear line for a failed file or SQLite operation: ``<path>: <cause>``."""
    import errno as _errno
    import sqlite3 as _sqlite3

    if isinstance(err, BillingNbError):
        return err
    if isinstance(err, OSError) and err.errno is not None:
        name = _errno.errorcode.get(err.errno, "")
        cause = _ERRNO_WORDS.get(name) or (err.strerror or str(err)).lower()
        where = err.filename or path
        return StorageError(f"{where}: {cause} ({name or err.errno})")
    if isinstance(err, _sqlite3.DatabaseError):
        text = str(err)
        if "not a database" in text or "malformed" in text:
            return CorruptFileError(f"{path}: not a readable SQLite ledger ({text}); move it aside and re-run, "
                                    "or restore it from a backup")
        if "readonly" in text or "read-only" in text:
            return StorageError(f"{path}: the ledger is read-only ({text})")
        return StorageError(f"{path}: ledger error ({text})")
    return StorageError(f"{path}: {type(err).__name__}: {err}")
