"""MCP for real: serving a catalog as an MCP server, reading live servers' tools, executing calls on them.

- ``origin``: where a live server is (a command over stdio, or a streamable-HTTP URL), kept in each
  of its tools' ``meta`` so execution can find the server again;
- ``client``: connecting to a live server with clear errors, and its paginated ``tools/list``;
- ``execute``: ``mode: execute``, one long-lived session per server for a run, allowlisted calls made for real;
- ``server``: ``inftool serve-mcp``, a catalog served over stdio or streamable HTTP, answered by the
  ToolServer role.

The ``mcp`` SDK (and ``anyio``) are imported only inside the functions that talk MCP, so importing
this package, or ``origin``, stays cheap.
"""
