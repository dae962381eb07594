# Host daemons listen on Unix sockets (docker, dbus, syslog).
# style: check
# expect: error, failed
import socket
def f(x):
    reached = 0
    for path in ("/run/docker.sock", "/var/run/docker.sock", "/run/dbus/system_bus_socket", "/dev/log"):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            reached += 1
        except OSError:
            pass
    try:
        d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        d.sendto(b"<13>boundary-adv escaped", "/dev/log")
        reached += 1
    except OSError:
        pass
    return reached
