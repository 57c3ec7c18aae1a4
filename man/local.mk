# Man pages (mdoc), installed by make install; tests/check_docs.sh lints them.
dist_man_MANS += man/netlabd.8 man/netlabd.conf.5 man/netlab.1
