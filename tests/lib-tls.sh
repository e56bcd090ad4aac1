# shellcheck shell=bash
#
# tests/lib-tls.sh: a certificate authority for the tests, made with the
# openssl CLI; sourced by tests/lib.sh.

PKI=$T/pki

# make_pki: a CA; a server certificate for db.example.test,
# redis.example.test and 127.0.0.1; the same one expired (valid for a day
# in 2020, made with "openssl ca -startdate -enddate": OpenSSL 3.5's
# "x509 -days -1" refuses an end date before the start); a client
# certificate; a second, unrelated CA.
make_pki() {
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	mkdir -p "$PKI" && cd "$PKI" || return 1
	printf 'subjectAltName=DNS:db.example.test,DNS:redis.example.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
	printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
	openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 30 \
	    -subj "/CN=postern test CA" &&
	openssl req -x509 "${ec[@]}" -keyout evil.key -out evil.crt -days 30 \
	    -subj "/CN=some other CA" &&
	openssl req -new "${ec[@]}" -keyout server.key -out server.csr \
	    -subj "/CN=db.example.test" &&
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 30 -extfile server.ext -out server.crt &&
	mkdir -p ca.db && : > ca.db/index.txt && echo 01 > ca.db/serial &&
	printf '[ca]\ndefault_ca = t\n[t]\ndatabase = ca.db/index.txt\nnew_certs_dir = ca.db\nserial = ca.db/serial\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n' > ca.cnf &&
	openssl ca -batch -notext -config ca.cnf -cert ca.crt -keyfile ca.key \
	    -in server.csr -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extfile server.ext -out expired.crt &&
	openssl req -new "${ec[@]}" -keyout client.key -out client.csr \
	    -subj "/CN=postern client" &&
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 30 -extfile client.ext -out client.crt &&
	cat server.crt server.key > server.pem &&
	cat expired.crt server.key > expired.pem
}
