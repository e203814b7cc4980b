"""pyovs: Open vSwitch and OVN in Python, compatible on the wire and at the command line."""

__version__ = "0.1.0"
OVS_COMPAT_VERSION = "3.1.0"
