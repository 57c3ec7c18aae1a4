# systemd units and the generator that derives netlabd.socket from netlabd.conf.
#
# netlabd.service and netlabd-generator are made from their .in files at make
# time, not by AC_CONFIG_FILES, so that @sbindir@ is a full path and not
# ${exec_prefix}/sbin.
systemdsystemunit_DATA = systemd/netlabd.service systemd/netlabd.socket
# systemd looks for system generators next to the system units:
# /lib/systemd/system-generators on Debian 12 (systemd.pc's
# systemdsystemgeneratordir), /usr/local/lib/systemd/system-generators for a
# /usr/local build; inside the prefix under distcheck.
systemdsystemgeneratordir = $(systemdsystemunitdir)-generators
systemdsystemgenerator_SCRIPTS = systemd/netlabd-generator
CLEANFILES += systemd/netlabd.service systemd/netlabd-generator
EXTRA_DIST += \
	systemd/netlabd.service.in \
	systemd/netlabd.socket \
	systemd/netlabd-generator.in \
	systemd/examples/netlabd-socket-override.conf

systemd_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g'

systemd/netlabd.service: $(srcdir)/systemd/netlabd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(systemd_edit) $(srcdir)/systemd/netlabd.service.in > $@.tmp && \
	mv $@.tmp $@

systemd/netlabd-generator: $(srcdir)/systemd/netlabd-generator.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(systemd_edit) $(srcdir)/systemd/netlabd-generator.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
