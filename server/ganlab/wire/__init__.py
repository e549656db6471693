"""The wire format of the live-session protocol (docs/protocol.md): the binary envelope, the
client's commands and the server's binary messages. Mirrors web/src/protocol."""
