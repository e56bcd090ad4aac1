# shellcheck shell=bash
#
# tests/lib-tls.sh: a certificate authority for the tests, made with the
# openssl CLI; sourced by tests/lib.sh.

PKI=$T/pki

# make_pki: tests/fixtures.sh's CA and certificates in $PKI (ca.crt,
# server.crt/.key/.pem for db.example.test, redis.example.test and
# 127.0.0.1, expired.crt/.pem, client.crt/.key, evil.crt: see
# fixture_pki there).
make_pki() {
	fixture_pki "$PKI"
}
