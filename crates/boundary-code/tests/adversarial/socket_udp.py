# style: check
# expect: error
import socket
def f(x):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"escaped", ("192.0.2.1", 9))
    return x * 2
