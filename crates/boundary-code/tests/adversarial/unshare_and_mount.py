# style: check
# expect: failed, error
import ctypes
def f(x):
    libc = ctypes.CDLL(None, use_errno=True)
    results = (libc.unshare(0x10000000), libc.unshare(0x00020000), libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
    return results
