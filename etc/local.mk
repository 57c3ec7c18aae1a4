# The shipped default configuration.
dist_sysconf_DATA += etc/netlabd.conf
