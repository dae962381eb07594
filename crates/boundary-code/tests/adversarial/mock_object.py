# style: check
# expect: error, failed
from unittest import mock
def f(x):
    return mock.MagicMock()
