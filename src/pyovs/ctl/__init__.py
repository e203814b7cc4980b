"""The generic engine behind the ``*ctl`` tools (OVS ``lib/db-ctl-base.c``).

ovs-vsctl, ovn-nbctl and ovn-sbctl share one design: a command line of
commands separated by ``--``, each with its own options, run one after the
other against a local replica of the database inside a single transaction,
which is then committed (and retried from scratch when the database changed
under it).  This package is that design, independent of any schema:

* :mod:`pyovs.ctl.idl` -- the replica and its transaction, OVS's IDL as far
  as a one-shot tool needs it: monitored columns, reads, writes, verifies,
  partial map/set updates, the ``next_cfg``-style increment, and the
  ``transact`` request it all turns into;
* :mod:`pyovs.ctl.parse` -- the command line: getopt in POSIX mode, the
  per-command options (``--may-exist``, ``--id=@name``...), ``--`` chaining,
  and the checks ovs-vsctl makes before it connects;
* :mod:`pyovs.ctl.engine` -- command syntax and context, table and column
  lookup by unique prefix, record lookup by UUID, ``.`` or name (the
  ``ctl_table_class`` row ids), ``COLUMN:KEY=VALUE`` arguments;
* :mod:`pyovs.ctl.dbcmds` -- the database commands every tool has: ``get``,
  ``list``, ``find``, ``set``, ``add``, ``remove``, ``clear``, ``create``,
  ``destroy``, ``wait-until``, ``comment`` and ``show`` (driven by the tool's
  ``cmd_show_tables``);
* :mod:`pyovs.ctl.session` -- the run loop: connect, monitor what the
  commands asked for, run them, commit, try again on a conflict, print, and
  wait for the daemon to catch up.

A tool is a table of :class:`~pyovs.ctl.engine.CommandSyntax`, a table of
:class:`~pyovs.ctl.engine.TableClass` (how users name rows) and, optionally,
:class:`~pyovs.ctl.engine.ShowTable` entries; ``pyovs.cli.vsctl`` is the
Open_vSwitch one.
"""
