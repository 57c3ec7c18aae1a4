/*
 * wire.h - facts about the wire shared by the daemon, the netlab client, the
 * benchmark and the fuzzers: default ports and message sizes.
 */
#ifndef NETLABD_WIRE_H
#define NETLABD_WIRE_H

#define WIRE_PORT_DAYTIME	13	/* RFC 867 */
#define WIRE_PORT_HELLO		12345
#define WIRE_PORT_ECHO		55556
#define WIRE_PORT_ADD		54321
#define WIRE_PORT_DISCARD	9	/* RFC 863 */
#define WIRE_PORT_CHARGEN	19	/* RFC 864 */
#define WIRE_PORT_TIME		37	/* RFC 868 */
#define WIRE_PORT_METRICS	10013	/* outside the 9100-9999 exporter range */

#define WIRE_ADD_REQ		8	/* two big-endian int32 */
#define WIRE_ADD_REP		8	/* one big-endian int64 */
#define WIRE_TIME_LEN		4	/* RFC 868: big-endian seconds since 1900 */
#define WIRE_TIME_EPOCH		2208988800UL	/* seconds from 1900-01-01 to 1970-01-01 */
#define WIRE_CHARGEN_LINE	72	/* RFC 864: printable characters per line, then CRLF */
#define WIRE_DAYTIME_MAX	256	/* longest daytime format result the config allows */
#define WIRE_HELLO_MAX		1024	/* longest hello message */

#endif
