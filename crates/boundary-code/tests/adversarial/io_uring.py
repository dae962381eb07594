# style: check
# expect: failed, error
import ctypes
def f(x):
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    return libc.syscall(425, 8, params)  # io_uring_setup
