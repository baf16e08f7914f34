"""The store's verbs, one module per aggregate, composed into ``storage.store.Tx``.

Each module holds a mixin over :class:`storage.ops.base.TxBase` (the transaction's
connection and lazy ORM session). A new aggregate is a new module here plus one base class
in ``Tx``.
"""
