/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-user call forwarding: the forward_* members of registrar.users. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/conf.h"
#include "sbc/sbc_conf.h"

static int load(struct sbc_conf *cfg, struct conf **c, const char *text, char *err, size_t n)
{
	assert_int_equal(conf_load_string(c, &sbc_conf_schema, "f.conf", text, err, n), 0);
	return sbc_conf_read(cfg, *c, err, n);
}

static void test_rules(void **state)
{
	const struct forwarding_rule *r;
	struct sbc_conf cfg;
	struct conf *c;
	char err[512];

	(void)state;
	assert_int_equal(
	    load(
		&cfg, &c,
		"registrar: { users = (\n"
		" { username = \"1001\"; password = \"x\"; forward_busy = \"2002\";\n"
		"   forward_no_answer = \"sip:2002@192.0.2.1\"; forward_no_answer_timeout = 5; },\n"
		" { username = \"bob\"; domain = \"example.com\"; password = \"x\";\n"
		"   forward_unconditional = \"sips:carol@example.org\"; },\n"
		" { username = \"quiet\"; password = \"x\"; }\n"
		"); };\n",
		err, sizeof(err)),
	    0);
	assert_int_equal(cfg.forwarding.n, 2); /* quiet has no rule */
	r = forwarding_lookup(&cfg.forwarding, STRV("1001"), STRV("10.0.0.1"));
	assert_non_null(r);
	assert_string_equal(r->busy, "2002");
	assert_string_equal(r->no_answer, "sip:2002@192.0.2.1");
	assert_null(r->unconditional);
	assert_int_equal(r->no_answer_ms, 5000);
	r = forwarding_lookup(&cfg.forwarding, STRV("bob"), STRV("EXAMPLE.com"));
	assert_non_null(r);
	assert_string_equal(r->unconditional, "sips:carol@example.org");
	assert_null(forwarding_lookup(&cfg.forwarding, STRV("bob"), STRV("example.org")));
	assert_null(forwarding_lookup(&cfg.forwarding, STRV("quiet"), STRV("example.com")));
	assert_null(forwarding_lookup(&cfg.forwarding, STRV("100"), STRV("example.com")));
	sbc_conf_clear(&cfg);
	conf_free(c);
}

static void test_target_uri(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(forwarding_target_uri("2002", STRV("10.0.0.1"), out, sizeof(out)), 0);
	assert_string_equal(out, "sip:2002@10.0.0.1");
	assert_int_equal(forwarding_target_uri("2002", STRV("2001:db8::1"), out, sizeof(out)), 0);
	assert_string_equal(out, "sip:2002@[2001:db8::1]");
	assert_int_equal(forwarding_target_uri("SIP:x@h", STRV("10.0.0.1"), out, sizeof(out)), 0);
	assert_string_equal(out, "SIP:x@h");
	assert_int_equal(
	    forwarding_target_uri("2002", STRV("a.very.long.host.name.example.com"), out, 16),
	    -ENOSPC);
}

static void test_bad_target(void **state)
{
	struct sbc_conf cfg;
	struct conf *c;
	char err[512];

	(void)state;
	assert_int_equal(load(&cfg, &c,
			      "registrar: { users = (\n { username = \"a\"; password = \"x\";\n"
			      "   forward_busy = \"two words\"; }\n); };\n",
			      err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "f.conf:3: setting 'registrar.users.[0].forward_busy': expected "
				 "a SIP URI (\"sip:user@host\") or a user or number, got \"two "
				 "words\"");
	conf_free(c);
	assert_int_equal(load(&cfg, &c,
			      "registrar: { users = (\n { username = \"a\"; password = \"x\";\n"
			      "   forward_no_answer = \"sip:x@h?Subject=a\"; }\n); };\n",
			      err, sizeof(err)),
			 -EINVAL);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_target_uri),
		cmocka_unit_test(test_bad_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
