# TEST-NET-1 (192.0.2.1, reserved for documentation) stands in for a public host.
# style: check
# expect: error
import socket
def f(x):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(("192.0.2.1", 9))
    return x * 2
