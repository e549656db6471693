"""The live server: the FastAPI app, its websocket, the hub of engine processes and the
sessions they train."""
