# style: check
# expect: error, crashed
import os
os._exit(0)
