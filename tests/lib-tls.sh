# shellcheck shell=bash
#
# tests/lib-tls.sh: the certificate authority of the tests (fixture_pki in
# tests/fixtures.sh) in $T/pki; sourced by tests/lib.sh.

PKI=$T/pki

# make_pki: tests/fixtures.sh's CA and certificates in $PKI (ca.crt,
# server.crt/.key/.pem for db.example.test, redis.example.test and
# 127.0.0.1, expired.crt/.pem, client.crt/.key, evil.crt: see
# fixture_pki there).
make_pki() {
	fixture_pki "$PKI"
}
