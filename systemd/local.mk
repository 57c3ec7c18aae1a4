# systemd units and the tests of socket activation, sd_notify and restarts.
#
# netlabd.service is made from netlabd.service.in at make time, not by
# AC_CONFIG_FILES, so that @sbindir@ is a full path and not ${exec_prefix}/sbin.
systemdsystemunit_DATA = systemd/netlabd.service systemd/netlabd.socket
CLEANFILES += systemd/netlabd.service
EXTRA_DIST += \
	systemd/netlabd.service.in \
	systemd/netlabd.socket \
	systemd/examples/netlabd-echo.socket \
	systemd/examples/netlabd-hello-local.socket

systemd_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g'

systemd/netlabd.service: $(srcdir)/systemd/netlabd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(systemd_edit) $(srcdir)/systemd/netlabd.service.in > $@.tmp && \
	mv $@.tmp $@

TESTS += \
	tests/test_units.sh \
	tests/test_activation.py \
	tests/test_notify.py \
	tests/test_restart.py
EXTRA_DIST += \
	tests/test_units.sh \
	tests/test_activation.py \
	tests/test_notify.py \
	tests/test_restart.py \
	tests/sockholder.py
