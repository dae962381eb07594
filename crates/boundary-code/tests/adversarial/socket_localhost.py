# Connects to a listener the suite opened on 127.0.0.1; the suite checks it got nothing.
# style: stdio
# needs: listener
# expect: failed, error
import socket, sys
port = int(sys.stdin.readline())
s = socket.create_connection(("127.0.0.1", port), timeout=2)
s.sendall(b"escaped")
print(4)
