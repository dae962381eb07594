# style: check
# expect: error
import socket
def f(x):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.connect(("::1", 9))
    return x * 2
