"""MCP, the protocol only: where a live server is, connecting to it and reading its tools, live sessions.

- ``origin``: where a live server is (a command over stdio, or a streamable-HTTP URL), kept in each
  of its tools' ``meta`` so execution can find the server again;
- ``client``: connecting to a live server with clear errors, and its paginated ``tools/list``;
- ``session``: one long-lived client session per server for a run, and ``tools/call`` with a timeout.

What uses them lives above: reading a live server's tools into a catalog (``inftool.catalog``), the
ToolServer role that executes allowlisted calls (``inftool.synth.roles.live``), and ``inftool serve-mcp``
(``inftool.serve_mcp``). This package imports nothing of inftool but ``errors``.

The ``mcp`` SDK (and ``anyio``) are imported only inside the functions that talk MCP, so importing
this package, or ``origin``, stays cheap.
"""
