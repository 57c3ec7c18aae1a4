# tests/bench/report.awk - the tables of "make bench" from tests/bench/run's
# raw results: one line per measurement ("w=CELL fam=v4 srv=SERVER rc=0"
# followed by netlab-bench's key=value result line), "NA<tab>CELL<tab>REASON"
# for a cell that could not be measured, and a few "key=value" facts.
# Figures are medians (min-max) over the repetitions; ratios are of medians.
# Nothing here sets the exit status: targets are reported, not asserted.
#
# usage: awk -v hold_n=N -v loglevel=LEVEL -f report.awk RESULTS

function sortn(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && arr[j - 1] > arr[j]; j--) {
			t = arr[j]; arr[j] = arr[j - 1]; arr[j - 1] = t
		}
}

# Median of field f over the repetitions of key; sets lo and hi.
function stat(f, key,    n, i, m, v) {
	n = 0
	for (i = 1; i <= cnt[key]; i++)
		if ((f, key, i) in val)
			v[++n] = val[f, key, i] + 0
	if (n == 0) {
		lo = hi = ""
		return ""
	}
	sortn(v, n)
	m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	lo = v[1]; hi = v[n]
	return m
}

function sum(f, key,    i, s) {
	s = 0
	for (i = 1; i <= cnt[key]; i++)
		s += val[f, key, i]
	return s
}

function has(key) { return cnt[key] > 0 && !bad[key] }

function human(x) {
	if (x >= 1e6) return sprintf("%.2fM", x / 1e6)
	if (x >= 1e4) return sprintf("%.0fk", x / 1e3)
	if (x >= 1e3) return sprintf("%.1fk", x / 1e3)
	return sprintf("%.0f", x)
}

function fmtv(x, fmt) { return fmt == "h" ? human(x) : sprintf(fmt, x) }

# "median (min-max)" of field f, "-" without data, "ERR" after an error.
function cell(f, key, fmt,    m) {
	if (cnt[key] == 0)
		return "-"
	if (bad[key])
		return "ERR"
	m = stat(f, key)
	if (m == "")
		return "-"
	if (lo == hi)
		return fmtv(m, fmt)
	return fmtv(m, fmt) " (" fmtv(lo, fmt) "-" fmtv(hi, fmt) ")"
}

function K(w, fam, srv) { return w SUBSEP fam SUBSEP srv }

function any_of(list,    n, i, a, k) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++)
		for (k in cnt)
			if (index(k, a[i] SUBSEP) == 1)
				return 1
	return 0
}

# The n/a lines of the cells in list, once each; cells with one reason share a line.
function print_na(list,    n, i, j, a, names) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++) {
		if (!(a[i] in na) || a[i] in na_done)
			continue
		names = a[i]
		na_done[a[i]] = 1
		for (j = i + 1; j <= n; j++)
			if (a[j] in na && !(a[j] in na_done) && na[a[j]] == na[a[i]]) {
				names = names ", " a[j]
				na_done[a[j]] = 1
			}
		print "n/a (" names "): " na[a[i]]
	}
}

function heading(title, cells) {
	if (!any_of(cells) && !has_na(cells))
		return 0
	print ""
	print "### " title
	print ""
	print_na(cells)
	return any_of(cells)
}

function has_na(list,    n, i, a) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++)
		if (a[i] in na)
			return 1
	return 0
}

function ms(us) { return sprintf("%.1f", us / 1000) }

/^NA\t/ {
	split($0, parts, "\t")
	n = split(parts[2], cells, ", ")
	for (i = 1; i <= n; i++)
		na[cells[i]] = parts[3]
	next
}
/^peers=/ { peers = substr($0, 7); next }
/^rcvbuf / { rcvbuf[$2] = "kernel UDP RcvbufErrors (all sockets): " $3 " before these cells, " $4 " after"; next }
/^flood_limit=/ { flood_limit = substr($0, 13) + 0; next }
{
	delete kv
	for (i = 1; i <= NF; i++) {
		eq = index($i, "=")
		if (eq > 0)
			kv[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
	if (!("w" in kv))
		next
	key = K(kv["w"], kv["fam"], kv["srv"])
	n = ++cnt[key]
	for (f in kv)
		if (f != "w" && f != "fam" && f != "srv")
			val[f, key, n] = kv[f]
	if (kv["rc"] != 0)
		bad[key] = 1
	if (kv["client_cpu_util"] + 0 > client_max) {
		client_max = kv["client_cpu_util"] + 0
		client_where = kv["w"] " " kv["fam"] " " kv["srv"]
	}
}

function main_table(    nw, ws, desc, i, w, f, fam, kn, kr, kx, line, rref, rx, target, ok, r, lim, rxv, rxc, need, thr, cpu, cf) {
	nw = split("daytime hello echo64 echo1000 add bulk", ws, " ")
	desc["daytime"] = "daytime connect-read-close, 32 in flight"
	desc["hello"] = "hello connect-read-close, 32 in flight"
	desc["echo64"] = "echo 64 B lines, 64 conns"
	desc["echo1000"] = "echo 64 B lines, 1000 conns"
	desc["add"] = "add 64 conns x 16 pipelined"
	desc["bulk"] = "bulk echo 4 conns x 16 KiB (MB/s, CPU us/MB)"
	if (!heading("TCP workloads (issue 6, issue 9)", "daytime hello echo64 echo1000 add bulk"))
		return
	if (peers != "")
		print "netlabd logged " peers " accepted-peer lines (log-level " loglevel ", stderr to a file)\n"
	print "| workload | fam | netlabd ops/s | netlabd CPU us/op | reference ops/s | reference CPU us/op | xinetd ops/s | xinetd CPU us/op | netlabd/ref | netlabd/xinetd | target | result |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= nw; i++) {
		w = ws[i]
		if (!any_of(w))
			continue
		thr = w == "bulk" ? "mb_s" : "ops_s"
		cpu = w == "bulk" ? "server_cpu_us_per_mb" : "server_cpu_us_per_op"
		cf = w == "bulk" ? "%.0f" : "%.2f"
		for (f = 1; f <= 2; f++) {
			fam = f == 1 ? "v4" : "v6"
			kn = K(w, fam, "netlabd"); kr = K(w, fam, "refserver"); kx = K(w, fam, "xinetd")
			line = "| " desc[w] " | " fam
			line = line " | " cell(thr, kn, "h") " | " cell(cpu, kn, cf)
			line = line " | " cell(thr, kr, "h") " | " cell(cpu, kr, cf)
			line = line " | " cell(thr, kx, "h") " | " cell(cpu, kx, cf)
			rref = "-"; rx = "-"; ok = "-"
			lim = w == "add" ? 1.5 : 1.25
			target = w == "bulk" ? ">= 0.8x ref MB/s" : "<= " lim "x ref CPU"
			if (has(kn) && has(kr)) {
				if (w == "bulk") {
					r = stat(thr, kn) / stat(thr, kr)
					rref = sprintf("%.2fx MB/s", r)
					ok = r >= 0.8 ? "holds" : "MISSED"
				} else {
					r = stat(cpu, kn) / stat(cpu, kr)
					rref = sprintf("%.2fx CPU", r)
					ok = r <= lim ? "holds" : "MISSED"
				}
			}
			need = w == "echo64" ? 2 : w == "echo1000" ? 4 : 0
			if (need)
				target = target ", >= " need "x xinetd ops/s"
			if (has(kn) && has(kx) && w != "bulk") {
				rxv = stat(thr, kn) / stat(thr, kx)
				# Per server CPU-second: what each would do with a core to itself.
				rxc = stat(cpu, kx) / stat(cpu, kn)
				rx = sprintf("%.2fx ops/s (%.2fx per CPU-s)", rxv, rxc)
				if (need) {
					if (rxv < need)
						ok = (ok == "holds" && rxc >= need) ? \
						    "MISSED (holds per CPU-s)" : "MISSED"
				}
			} else if (has(kn) && has(kx)) {
				rx = sprintf("%.2fx MB/s", stat(thr, kn) / stat(thr, kx))
			}
			if (bad[kn] || bad[kr])
				ok = "ERRORS"
			print line " | " rref " | " rx " | " target " | " ok " |"
		}
	}
}

# Issue 9's greeting cells once more: netlabd without its accepted-peer
# line (log-level notice), to show what SPEC section 4's line costs.
function quiet_table(    nw, ws, i, w, f, fam, kn, kq, kr, rn) {
	if (!heading("The accepted-peer line's share (issue 9): greeting cells at log-level notice", "daytime hello"))
		return
	print "| workload | fam | netlabd (info) CPU us/op | netlabd (notice) CPU us/op | reference CPU us/op | info/ref | notice/ref | target |"
	print "|---|---|---|---|---|---|---|---|"
	nw = split("daytime hello", ws, " ")
	for (i = 1; i <= nw; i++) {
		w = ws[i]
		if (!any_of(w))
			continue
		for (f = 1; f <= 2; f++) {
			fam = f == 1 ? "v4" : "v6"
			kn = K(w, fam, "netlabd"); kq = K(w, fam, "nl_quiet"); kr = K(w, fam, "refserver")
			cpu_vs(kn, kr, 1.05)
			rn = RATIO
			cpu_vs(kq, kr, 1.05)
			print "| " w " connect-read-close, 32 in flight | " fam " | " \
			    cell("server_cpu_us_per_op", kn, "%.2f") " | " cell("server_cpu_us_per_op", kq, "%.2f") " | " \
			    cell("server_cpu_us_per_op", kr, "%.2f") " | " rn " | " RATIO " | <= 1.05x (figure) |"
		}
	}
}

function hold_table(    f, fam, kn, kr, ok) {
	if (!heading("Idle connections (" hold_n ")", "hold"))
		return
	print "| idle connections (" hold_n ") | fam | netlabd open | netlabd RSS B/conn | reference open | reference RSS B/conn | target | result |"
	print "|---|---|---|---|---|---|---|---|"
	for (f = 1; f <= 2; f++) {
		fam = f == 1 ? "v4" : "v6"
		kn = K("hold", fam, "netlabd")
		kr = K("hold", fam, "refserver")
		ok = "-"
		if (has(kn))
			ok = stat("rss_per_conn_b", kn) <= 1024 ? "holds" : "MISSED"
		else if (cnt[kn])
			ok = "ERRORS"
		printf "| RSS per idle connection | %s | %s | %s | %s | %s | <= 1024 B | %s |\n", fam,
		    cell("open", kn, "%.0f"), cell("rss_per_conn_b", kn, "%.0f"),
		    cell("open", kr, "%.0f"), cell("rss_per_conn_b", kr, "%.0f"), ok
	}
	print "\nxinetd uses a process per echo connection; its idle cost is a process each."
}

function lost_of(key,    l, o) {
	if (cnt[key] == 0)
		return "-"
	l = sum("lost", key); o = sum("ops", key)
	return l + o > 0 && l > 0 ? sprintf("%d (%.1f%%)", l, 100 * l / (l + o)) : l ""
}

function udp_table(    ws, desc, i, j, w, f, fam, srvs, s, k, line, ok, why, kn, kb, kx, r, rx, rcv) {
	split("udp-echo udp-daytime", ws, " ")
	desc["udp-echo"] = "echo, 64-byte datagrams, 64 flows x 4 in flight"
	desc["udp-daytime"] = "daytime, 32 flows x 1 in flight"
	split("nl_udp refserver ref_b64 xinetd", srvs, " ")
	if (!heading("UDP (issue 11): datagrams/s, server CPU per answered datagram, lost (unanswered after 200 ms)", "udp-echo udp-daytime"))
		return
	print "| workload | fam | netlabd dgrams/s | netlabd CPU us | refserver dgrams/s | refserver CPU us | refserver -B 64 dgrams/s | refserver -B 64 CPU us | xinetd dgrams/s | xinetd CPU us | lost: netlabd / ref / ref -B 64 / xinetd | RcvbufErrors: netlabd / ref / ref -B 64 / xinetd | netlabd / ref -B 64 CPU | xinetd / netlabd CPU | target | result |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= 2; i++) {
		w = ws[i]
		if (!any_of(w))
			continue
		for (f = 1; f <= 2; f++) {
			fam = f == 1 ? "v4" : "v6"
			line = "| " desc[w] " | " fam
			for (j = 1; j <= 4; j++) {
				k = K(w, fam, srvs[j])
				line = line " | " cell("ops_s", k, "h") " | " cell("server_cpu_us_per_op", k, "%.2f")
			}
			s = ""; rcv = ""
			for (j = 1; j <= 4; j++) {
				k = K(w, fam, srvs[j])
				s = s (j > 1 ? " / " : "") lost_of(k)
				rcv = rcv (j > 1 ? " / " : "") (cnt[k] ? sum("rcvbuf_errors", k) : "-")
			}
			line = line " | " s " | " rcv
			kn = K(w, fam, "nl_udp"); kb = K(w, fam, "ref_b64"); kx = K(w, fam, "xinetd")
			r = "-"; rx = "-"; ok = "-"; why = ""
			if (has(kn) && has(kb)) {
				r = stat("server_cpu_us_per_op", kn) / stat("server_cpu_us_per_op", kb)
				if (r > 1.1)
					why = why ", CPU"
				if (sum("lost", kb) == 0 && sum("lost", kn) > 0)
					why = why ", lost"
				r = sprintf("%.2fx", r)
			}
			if (has(kn) && has(kx)) {
				rx = stat("server_cpu_us_per_op", kx) / stat("server_cpu_us_per_op", kn)
				if (rx < 10)
					why = why ", vs xinetd"
				rx = sprintf("%.1fx", rx)
			}
			if (has(kn) && (has(kb) || has(kx)))
				ok = why == "" ? "holds" : "MISSED (" substr(why, 3) ")"
			if (bad[kn] || bad[kb])
				ok = "ERRORS"
			print line " | " r " | " rx " | <= 1.1x ref -B 64 CPU, 0 lost where ref -B 64 loses none, >= 10x fewer us than xinetd | " ok " |"
		}
	}
	if ("udp" in rcvbuf)
		print "\n" rcvbuf["udp"] "."
	print "\nOn loopback the sender pays for delivery: compare CPU per datagram, not datagrams/s. xinetd discards what is queued behind each datagram it answers (its losses are by design) and its CPU is per answered datagram."
}

function flood_table(    k, n, a, i, s, src, srv, kf, kp, allowed, secs, ok, why, line, j, srvs, label) {
	if (!heading("Forged-source UDP flood (issue 11): rate-limited echo, " (flood_limit ? flood_limit : "?") "/s per source, TCP echo probe beside it", flood_cells))
		return
	print "| sources | server | offered dgrams/s | kernel drops (RcvbufErrors) | answered/s | limit x sources | busiest source answered/s | probe p50 / p99 / max ms | server RSS start / peak / end KiB | target | result |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	n = split(flood_sizes, a, " ")
	split("nl_flood refserver", srvs, " ")
	for (i = 1; i <= n; i++) {
		src = a[i]
		for (j = 1; j <= 2; j++) {
			srv = srvs[j]
			kf = K("flood" src, "v4", srv); kp = K("flood" src "-probe", "v4", srv)
			if (cnt[kf] == 0)
				continue
			label = srv == "nl_flood" ? "netlabd" : "refserver (no limit)"
			line = "| " src " | " label " | " cell("offered_s", kf, "h") " | " sum("rcvbuf_errors", kf)
			line = line " | " cell("answered_s", kf, "h")
			line = line " | " (srv == "nl_flood" && flood_limit ? human(flood_limit * src) : "-")
			line = line " | " cell("answered_src_max_s", kf, "%.1f")
			line = line " | " (has(kp) ? ms(stat("p50_us", kp)) " / " ms(stat("p99_us", kp)) " / " ms(stat("max_us", kp)) : cell("p99_us", kp, "%.0f"))
			line = line " | " (cnt[kf] ? stat("rss_start_kb", kf) " / " stat("rss_peak_kb", kf) " / " stat("rss_end_kb", kf) : "-")
			ok = "-"; why = ""
			if (srv == "nl_flood" && has(kf) && flood_limit) {
				secs = stat("duration_s", kf)
				# The bucket may start full: a burst of twice the rate per source.
				allowed = flood_limit * src * (1 + 2 / (secs > 0 ? secs : 1))
				if (stat("answered_s", kf) > allowed)
					why = why ", answers"
				if (has(kp) && stat("p99_us", kp) >= 50000)
					why = why ", probe"
				ok = why == "" ? "holds" : "MISSED (" substr(why, 3) ")"
			} else if (bad[kf] || bad[kp]) {
				ok = "ERRORS"
			}
			print line " | " (srv == "nl_flood" ? "answered <= limit x sources (+ burst), probe p99 < 50 ms" : "-") " | " ok " |"
		}
	}
	if ("udp-flood" in rcvbuf)
		print "\n" rcvbuf["udp-flood"] "."
	print "\nThe sources are 127.x.y.z addresses, one socket bound to each (every 127/8 address is local on Linux); the sender runs flat out on one core. RSS is sampled every 100 ms: the per-source table must stay bounded."
}

# CPU per op of k against kbase: sets RATIO ("1.04x" or "-") and VERDICT
# ("holds", "MISSED" over limit, "ERRORS", or "-" when a cell is missing).
function cpu_vs(k, kbase, limit,    r) {
	RATIO = "-"; VERDICT = "-"
	if (has(k) && has(kbase)) {
		r = stat("server_cpu_us_per_op", k) / stat("server_cpu_us_per_op", kbase)
		VERDICT = r <= limit ? "holds" : "MISSED"
		RATIO = sprintf("%.2fx", r)
	} else if (bad[k] || bad[kbase]) {
		VERDICT = "ERRORS"
	}
}

# Two verdicts as one: an error in either, then a missing cell, then holds only if both hold.
function both(a, b) {
	if (a == "ERRORS" || b == "ERRORS")
		return "ERRORS"
	if (a == "-" || b == "-")
		return "-"
	return a == "holds" && b == "holds" ? "holds" : "MISSED"
}

function proxy_table(    f, fam, kn, k1, k2, r1, r2, ok) {
	if (!heading("PROXY protocol (issue 12): daytime connect-read-close, 32 in flight, server CPU us per connection", "proxy proxy-none proxy-v1 proxy-v2 proxy-none-paced proxy-v2-paced"))
		return
	print "| fam | no header | PROXY v1 | PROXY v2 | v1 / none | v2 / none | target | result |"
	print "|---|---|---|---|---|---|---|---|"
	proxy_rows()
	print "\nAt one offered rate for both (each of the 32 connections pauses 2.5 ms between operations, at most 12 800 connections/s), so that the generator's own cost of writing the header does not change the server's rate:"
	print ""
	print "| fam | no header: conn/s, CPU us | PROXY v2: conn/s, CPU us | v2 / none | target | result |"
	print "|---|---|---|---|---|---|"
	for (f = 1; f <= 2; f++) {
		fam = f == 1 ? "v4" : "v6"
		kn = K("proxy-none-paced", fam, "nl_proxy"); k2 = K("proxy-v2-paced", fam, "nl_proxy")
		if (!cnt[kn] && !cnt[k2])
			continue
		cpu_vs(k2, kn, 1.05)
		printf "| %s | %s, %s | %s, %s | %s | <= 1.05x | %s |\n", fam,
		    cell("ops_s", kn, "%.0f"), cell("server_cpu_us_per_op", kn, "%.2f"),
		    cell("ops_s", k2, "%.0f"), cell("server_cpu_us_per_op", k2, "%.2f"), RATIO, VERDICT
	}
	print "\nThe client sends the header (TCP4/TCP6, source 192.0.2.x / 2001:db8::x) right after connecting; \"no header\" is a daytime service without proxy-from on the same daemon."
}

function proxy_rows(    f, fam, kn, k1, k2, r1, r2, ok) {
	for (f = 1; f <= 2; f++) {
		fam = f == 1 ? "v4" : "v6"
		kn = K("proxy-none", fam, "nl_proxy"); k1 = K("proxy-v1", fam, "nl_proxy"); k2 = K("proxy-v2", fam, "nl_proxy")
		if (!cnt[kn] && !cnt[k1] && !cnt[k2])
			continue
		cpu_vs(k1, kn, 1.05)
		r1 = RATIO; ok = VERDICT
		cpu_vs(k2, kn, 1.05)
		r2 = RATIO
		ok = both(ok, VERDICT)
		# Ratios only when all three cells are good.
		if (ok != "holds" && ok != "MISSED")
			r1 = r2 = "-"
		printf "| %s | %s | %s | %s | %s | %s | <= 1.05x | %s |\n", fam,
		    cell("server_cpu_us_per_op", kn, "%.2f"), cell("server_cpu_us_per_op", k1, "%.2f"),
		    cell("server_cpu_us_per_op", k2, "%.2f"), r1, r2, ok
	}
}

function chargen_table(    f, fam, kc, kb, kx, r, ok) {
	if (!heading("chargen (issue 9): MB/s to a reading client, server CPU us per MB", "chargen chargen-bulk"))
		return
	print "| fam | netlabd chargen MB/s | netlabd chargen CPU us/MB | netlabd bulk echo MB/s | netlabd bulk echo CPU us/MB | xinetd chargen MB/s | xinetd chargen CPU us/MB | chargen / bulk echo | target | result |"
	print "|---|---|---|---|---|---|---|---|---|---|"
	for (f = 1; f <= 2; f++) {
		fam = f == 1 ? "v4" : "v6"
		kc = K("chargen", fam, "nl_chargen"); kb = K("chargen-bulk", fam, "nl_chargen"); kx = K("chargen", fam, "xinetd")
		if (!cnt[kc] && !cnt[kb] && !cnt[kx])
			continue
		r = "-"; ok = "-"
		if (has(kc) && has(kb)) {
			r = stat("mb_s", kc) / stat("mb_s", kb)
			ok = r >= 0.9 ? "holds" : "MISSED"
			r = sprintf("%.2fx", r)
		} else if (bad[kc] || bad[kb]) {
			ok = "ERRORS"
		}
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | >= 0.9x bulk echo MB/s | %s |\n", fam,
		    cell("mb_s", kc, "h"), cell("server_cpu_us_per_mb", kc, "%.0f"),
		    cell("mb_s", kb, "h"), cell("server_cpu_us_per_mb", kb, "%.0f"),
		    cell("mb_s", kx, "h"), cell("server_cpu_us_per_mb", kx, "%.0f"), r, ok
	}
	print "\n4 connections each; every byte checked against RFC 864's ring of 95 characters (xinetd 2.3.15 uses 93, '!' to '}', restarted every 95 lines: checked as such)."
}

function robust_table(    f, fam, kn, kd, r, ok, k, kp, ks, ke, kw, srv, label, j, srvs) {
	if (!heading("Robustness (issues 14 and 13): figures, not asserted", "acl-none acl-deny check-deny check-addr reload reload-sighup reload-watchdog fairness fairness-probe metrics-echo metrics-echo-scraped metrics-scrape acl metrics"))
		return
	print "| figure | fam | server | measured | compared with | ratio | target | result |"
	print "|---|---|---|---|---|---|---|---|"
	split("check-deny check-addr", srvs, " ")
	for (j = 1; j <= 2; j++) {
		k = K(srvs[j], "v4", "netlabd")
		if (!cnt[k])
			continue
		ok = has(k) ? (stat("check_ms", k) < 500 ? "holds" : "MISSED") : "ERRORS"
		printf "| netlabd -t on %s (ms, best of the repetitions) | - | netlabd | %s | - | - | < 500 ms | %s |\n",
		    srvs[j] == "check-deny" ? "a 50 000-prefix deny list" : "an address list of 1 000 entries",
		    has(k) ? stat("check_ms", k) : "ERR", ok
	}
	for (f = 1; f <= 2; f++) {
		fam = f == 1 ? "v4" : "v6"
		kn = K("acl-none", fam, "nl_acl"); kd = K("acl-deny", fam, "nl_acl")
		if (!cnt[kn] && !cnt[kd])
			continue
		cpu_vs(kd, kn, 1.1)
		printf "| accept CPU per daytime connection, 50 000-prefix deny list (us) | %s | netlabd | %s | %s without a list | %s | <= 1.1x | %s |\n",
		    fam, cell("server_cpu_us_per_op", kd, "%.2f"), cell("server_cpu_us_per_op", kn, "%.2f"), RATIO, VERDICT
	}
	split("nl_reload xinetd_reload", srvs, " ")
	for (j = 1; j <= 2; j++) {
		srv = srvs[j]
		kp = K("reload", "v4", srv); ks = K("reload-sighup", "v4", srv)
		if (!cnt[kp])
			continue
		label = srv == "nl_reload" ? "netlabd" : "xinetd"
		ok = "-"
		if (has(kp))
			ok = stat("max_us", kp) < 50000 && stat("reloads", ks) == stat("of", ks) ? "holds" : "MISSED"
		else
			ok = "ERRORS"
		printf "| a probe's worst wait (connect every 5 ms) during %s of %s SIGHUPs, 1 000 services, 2 000 sockets (ms) | v4 | %s | %s (p99 %s) | longest reload %s ms (log) | - | < 50 ms | %s |\n",
		    stat("reloads", ks), stat("of", ks), label, ms(stat("max_us", kp)), ms(stat("p99_us", kp)),
		    stat("reload_max_ms", ks), ok
		kw = K("reload-watchdog", "v4", srv)
		if (srv == "nl_reload" && cnt[kw])
			printf "| the longest gap between WATCHDOG=1 pings (every 100 ms, WatchdogSec=200ms) during those reloads (ms) | v4 | netlabd | %s | %s pings | - | <= 200 ms: late by at most half the interval | %s |\n",
			    stat("max_gap_ms", kw), stat("pings", kw), stat("max_gap_ms", kw) <= 200 ? "holds" : "MISSED"
	}
	split("nl_fair refserver", srvs, " ")
	for (j = 1; j <= 2; j++) {
		srv = srvs[j]
		kp = K("fairness-probe", "v4", srv); kw = K("fairness", "v4", srv)
		if (!cnt[kp])
			continue
		label = srv == "nl_fair" ? "netlabd" : "refserver"
		ok = has(kp) ? (stat("p99_us", kp) < 50000 ? "holds" : "MISSED") : "ERRORS"
		printf "| echo p99 of a probe (every 10 ms) beside 1 000 clients sending 512 KiB and never reading (ms) | v4 | %s | %s (p50 %s, max %s) | server RSS start / peak / end %s / %s / %s KiB | - | < 50 ms | %s |\n",
		    label, ms(stat("p99_us", kp)), ms(stat("p50_us", kp)), ms(stat("max_us", kp)),
		    stat("rss_start_kb", kw), stat("rss_peak_kb", kw), stat("rss_end_kb", kw), ok
	}
	ks = K("metrics-scrape", "v4", "nl_metrics")
	if (cnt[ks])
		printf "| GET /metrics, 100 services, beside 1 000 echo connections (ms) | v4 | netlabd | p50 %s, p99 %s, max %s | %s body bytes, %s scrapes/s | - | figure | %s |\n",
		    ms(stat("p50_us", ks)), ms(stat("p99_us", ks)), ms(stat("max_us", ks)),
		    stat("body_bytes", ks), human(stat("ops_s", ks)), has(ks) ? "-" : "ERRORS"
	ke = K("metrics-echo", "v4", "nl_metrics"); kw = K("metrics-echo-scraped", "v4", "nl_metrics")
	if (cnt[ke] || cnt[kw]) {
		r = "-"
		if (has(ke) && has(kw))
			r = sprintf("%.2fx", stat("p99_us", kw) / stat("p99_us", ke))
		printf "| echo p99, 1 000 connections, while scraping in a loop (ms) | v4 | netlabd | %s | %s without scraping | %s | no visible change | %s |\n",
		    cell("p99_us", kw, "%.0f") == "ERR" ? "ERR" : ms(stat("p99_us", kw)),
		    cell("p99_us", ke, "%.0f") == "ERR" ? "ERR" : ms(stat("p99_us", ke)), r,
		    bad[ke] || bad[kw] ? "ERRORS" : "-"
	}
}

END {
	# The flood cells are named by their number of sources.
	for (k in cnt) {
		split(k, parts, SUBSEP)
		if (parts[1] ~ /^flood[0-9]+$/ && !(parts[1] in seen_size)) {
			seen_size[parts[1]] = 1
			sizes[++nsizes] = substr(parts[1], 6) + 0
		}
	}
	sortn(sizes, nsizes)
	flood_sizes = ""
	flood_cells = "udp-flood"
	for (i = 1; i <= nsizes; i++) {
		flood_sizes = flood_sizes (i > 1 ? " " : "") sizes[i]
		flood_cells = flood_cells " flood" sizes[i]
	}
	main_table()
	quiet_table()
	hold_table()
	udp_table()
	flood_table()
	proxy_table()
	chargen_table()
	robust_table()
	# Anything left: cells whose n/a line no table printed.
	for (c in na)
		if (!(c in na_done))
			print "n/a (" c "): " na[c]
	if (client_max > 0) {
		print ""
		printf "netlab-bench itself used at most %.0f%% of its CPU in any measurement (%s).\n",
		    client_max * 100, client_where
	}
}
