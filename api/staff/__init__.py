"""The staff workspace at ``/staff``: server-rendered pages whose actions all go through the HTTP
API with the browser's session cookie and its anti-forgery token."""
